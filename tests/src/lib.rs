//! Helpers shared by the multi-process tests in `tests/tests/`.
//!
//! The binaries in `src/bin` are child processes those tests start and kill.
