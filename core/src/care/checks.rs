//! What only the recording tablet can check about a new care event, beyond what the merged
//! log checks ([`super::record`]): nothing is dated after the moment it is recorded, and a
//! task is logged done only on a day it is planned (the worker may log yesterday's task today).

use chrono::{DateTime, Utc};

use super::error::CareError;
use super::event::CareEvent;
use super::record::CareRecord;
use crate::calendar::CountyClock;

fn future(field: &'static str) -> CareError {
    CareError::DateOrder {
        field,
        reason: "cannot be later than the time it is recorded",
    }
}

/// Checks a new event against the person's record at `now` (the recording time).
pub(crate) fn check_new(
    record: &CareRecord,
    event: &CareEvent,
    now: DateTime<Utc>,
    clock: CountyClock,
) -> Result<(), CareError> {
    let errors = event.validate();
    if !errors.is_empty() {
        return Err(CareError::Invalid(errors));
    }
    let today = clock.local_date(now);
    match event {
        CareEvent::TaskDone {
            task_id, done_at, ..
        } => {
            // Whole seconds: the recording time is kept to the second.
            if done_at.timestamp() > now.timestamp() {
                return Err(future("done_at"));
            }
            let day = clock.local_date(*done_at);
            if !record.planned_on(day).any(|p| p.task.task_id == *task_id) {
                return Err(CareError::TaskNotPlanned {
                    task_id: task_id.clone(),
                });
            }
        }
        CareEvent::LeaderVisited { visited_on, .. } => {
            if *visited_on > today {
                return Err(future("visited_on"));
            }
            if !record.in_care_on(*visited_on) {
                return Err(CareError::NotInCare {
                    event: "leader_visited",
                    on: *visited_on,
                });
            }
        }
        CareEvent::Assessed { on, .. } if *on > today => return Err(future("on")),
        CareEvent::ProblemRectified { rectification, .. } if rectification.rectified_on > today => {
            return Err(future("rectification.rectified_on"))
        }
        _ => {}
    }
    Ok(())
}
