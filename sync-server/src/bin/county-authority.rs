//! `county-authority`: the county civil-affairs authority's command. It holds the authority's
//! private key (in its own file, on the authority's machine — never under a sync server's
//! data folder) and issues worker certificates, revocation lists, signed county
//! configurations and tablet enrollment bundles. Every output is JSON.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use ruhu_core::signing::certificate::{Role, Scope, SignedCertificate};
use ruhu_core::signing::keys::PublicKey;
use ruhu_core::signing::revocation::{RevocationReason, SignedRevocationList};
use ruhu_core::sync::CountyData;
use ruhu_core::visit::policy::VisitPolicy;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sync_server::authority::{
    init_key, Authority, AuthorityError, CertificateRequest, ConfigRequest,
};

#[derive(Debug, Parser)]
#[command(
    name = "county-authority",
    about = "The county authority: worker certificates, revocations, signed county configuration, enrollment bundles"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Policy {
    /// Township leader, village cadre and case handler sign every visit (provincial rule).
    Default,
    /// Case handler and village cadre (the national minimum).
    NationalMinimum,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Reason {
    KeyCompromised,
    DeviceLost,
    LeftPost,
    Superseded,
    Other,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Creates the authority key (mode 0600; refuses a folder holding a server database).
    Init {
        #[arg(long)]
        key_file: PathBuf,
        /// 6-digit county code.
        #[arg(long)]
        county: String,
        #[arg(long)]
        key_id: String,
    },
    /// Prints the authority's public key file (the server's `--authority-public-key`).
    PublicKey {
        #[arg(long)]
        key_file: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Certifies a worker's tablet key.
    Certify {
        #[arg(long)]
        key_file: PathBuf,
        #[arg(long)]
        worker_id: String,
        #[arg(long)]
        name: String,
        /// Comma-separated: township_leader, village_cadre, case_handler, county_supervisor.
        #[arg(long, value_delimiter = ',', required = true)]
        roles: Vec<String>,
        /// Comma-separated 12-digit village codes.
        #[arg(long, value_delimiter = ',', conflicts_with = "county_scope")]
        villages: Vec<String>,
        /// The whole county (supervisors).
        #[arg(long)]
        county_scope: bool,
        /// The tablet's Ed25519 public key, 64 hex digits.
        #[arg(long)]
        public_key: String,
        #[arg(long, default_value_t = 365)]
        valid_days: i64,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Revokes a certificate: a new revocation list (previous entries kept, serial + 1).
    Revoke {
        #[arg(long)]
        key_file: PathBuf,
        #[arg(long)]
        certificate: PathBuf,
        #[arg(long, value_enum)]
        reason: Reason,
        /// RFC 3339 time the revocation takes effect (default: now). A later time leaves a
        /// departing worker a final push; a compromised key should date it back.
        #[arg(long)]
        effective_at: Option<DateTime<Utc>>,
        /// The revocation list in force, if any.
        #[arg(long)]
        previous: Option<PathBuf>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Signs a county configuration.
    Config {
        #[arg(long)]
        key_file: PathBuf,
        #[arg(long)]
        serial: u64,
        #[arg(long)]
        min_app_version: String,
        #[arg(long, default_value_t = 90)]
        valid_days: i64,
        #[arg(long, value_enum, default_value = "default")]
        policy: Policy,
        /// A worker certificate file (repeat for each worker).
        #[arg(long = "certificate")]
        certificates: Vec<PathBuf>,
        /// The revocation list file.
        #[arg(long)]
        revocations: Option<PathBuf>,
        /// A form template file (JSON; repeat for each template version in use).
        #[arg(long = "form-template")]
        form_templates: Vec<PathBuf>,
        /// A scoring rubric file (JSON; repeat for each rubric version in use).
        #[arg(long = "rubric")]
        rubrics: Vec<PathBuf>,
        /// The standards file (JSON: dibao standards, class amounts, subsidies).
        #[arg(long)]
        standards: Option<PathBuf>,
        /// The working-day calendar file (JSON: holidays and exchanged working weekends).
        #[arg(long)]
        calendar: Option<PathBuf>,
        /// The county's time zone in seconds east of UTC (China: 28800).
        #[arg(long, allow_hyphen_values = true)]
        utc_offset_seconds: Option<i32>,
        /// The case policy file (JSON: deadlines and review intervals; national defaults
        /// for what it leaves out).
        #[arg(long)]
        case_policy: Option<PathBuf>,
        /// The care policy file (JSON: default care plan, due-soon and expiry windows,
        /// leader-visit frequency; defaults for what it leaves out).
        #[arg(long)]
        care_policy: Option<PathBuf>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Writes a tablet's enrollment bundle.
    Enroll {
        #[arg(long)]
        key_file: PathBuf,
        /// e.g. https://sync.example.gov.cn:8707
        #[arg(long)]
        server_url: String,
        /// SHA-256 of the server's TLS certificate (DER, hex; the server prints it), or
        /// loopback-plain.
        #[arg(long)]
        server_pin: String,
        #[arg(long)]
        certificate: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, AuthorityError> {
    let text = std::fs::read_to_string(path).map_err(|source| AuthorityError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text)
        .map_err(|e| AuthorityError::Invalid(format!("{}: {e}", path.display())))
}

fn write_json<T: Serialize>(value: &T, out: Option<&Path>) -> Result<(), AuthorityError> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| AuthorityError::Invalid(e.to_string()))?;
    match out {
        Some(path) => std::fs::write(path, text + "\n").map_err(|source| AuthorityError::Io {
            path: path.to_path_buf(),
            source,
        }),
        None => {
            println!("{text}");
            Ok(())
        }
    }
}

fn parse_role(text: &str) -> Result<Role, AuthorityError> {
    Role::ALL
        .into_iter()
        .find(|r| r.as_str() == text.trim())
        .ok_or_else(|| AuthorityError::Invalid(format!("unknown role {text:?}")))
}

fn run(cli: Cli) -> Result<(), AuthorityError> {
    let now = Utc::now();
    match cli.command {
        Command::Init {
            key_file,
            county,
            key_id,
        } => {
            let authority = init_key(&key_file, &county, &key_id)?;
            eprintln!(
                "authority key written to {} (keep it off the server)",
                key_file.display()
            );
            write_json(&authority.public_key(), None)
        }
        Command::PublicKey { key_file, out } => {
            write_json(&Authority::open(&key_file)?.public_key(), out.as_deref())
        }
        Command::Certify {
            key_file,
            worker_id,
            name,
            roles,
            villages,
            county_scope,
            public_key,
            valid_days,
            out,
        } => {
            let authority = Authority::open(&key_file)?;
            let scope = if county_scope {
                Scope::County(authority.county_code.clone())
            } else {
                Scope::Villages(villages)
            };
            let request = CertificateRequest {
                worker_id,
                name,
                roles: roles
                    .iter()
                    .map(|r| parse_role(r))
                    .collect::<Result<_, _>>()?,
                scope,
                public_key: PublicKey::from_hex(&public_key).ok_or_else(|| {
                    AuthorityError::Invalid("--public-key must be 64 lower-case hex digits".into())
                })?,
                valid_days,
            };
            write_json(&authority.certify(&request, now)?, out.as_deref())
        }
        Command::Revoke {
            key_file,
            certificate,
            reason,
            effective_at,
            previous,
            out,
        } => {
            let authority = Authority::open(&key_file)?;
            let cert: SignedCertificate = read_json(&certificate)?;
            let previous: Option<SignedRevocationList> =
                previous.as_deref().map(read_json).transpose()?;
            let reason = match reason {
                Reason::KeyCompromised => RevocationReason::KeyCompromised,
                Reason::DeviceLost => RevocationReason::DeviceLost,
                Reason::LeftPost => RevocationReason::LeftPost,
                Reason::Superseded => RevocationReason::Superseded,
                Reason::Other => RevocationReason::Other,
            };
            let list = authority.revoke(
                &cert,
                reason,
                effective_at.unwrap_or(now),
                previous.as_ref(),
                now,
            )?;
            write_json(&list, out.as_deref())
        }
        Command::Config {
            key_file,
            serial,
            min_app_version,
            valid_days,
            policy,
            certificates,
            revocations,
            form_templates,
            rubrics,
            standards,
            calendar,
            utc_offset_seconds,
            case_policy,
            care_policy,
            out,
        } => {
            let authority = Authority::open(&key_file)?;
            let data = CountyData {
                form_templates: form_templates
                    .iter()
                    .map(|p| read_json(p))
                    .collect::<Result<_, _>>()?,
                rubrics: rubrics
                    .iter()
                    .map(|p| read_json(p))
                    .collect::<Result<_, _>>()?,
                standards: standards.as_deref().map(read_json).transpose()?,
                calendar: calendar.as_deref().map(read_json).transpose()?,
                utc_offset_seconds,
                case_policy: case_policy.as_deref().map(read_json).transpose()?,
                care_policy: care_policy.as_deref().map(read_json).transpose()?,
            };
            let request = ConfigRequest {
                serial,
                min_app_version,
                valid_days,
                policy: match policy {
                    Policy::Default => VisitPolicy::default(),
                    Policy::NationalMinimum => VisitPolicy::national_minimum(),
                },
                certificates: certificates
                    .iter()
                    .map(|p| read_json(p))
                    .collect::<Result<_, _>>()?,
                revocations: revocations.as_deref().map(read_json).transpose()?,
                data,
            };
            write_json(&authority.config(request, now)?, out.as_deref())
        }
        Command::Enroll {
            key_file,
            server_url,
            server_pin,
            certificate,
            out,
        } => {
            let authority = Authority::open(&key_file)?;
            let cert: SignedCertificate = read_json(&certificate)?;
            write_json(
                &authority.enroll(&server_url, &server_pin, &cert)?,
                out.as_deref(),
            )
        }
    }
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("county-authority: {e}");
        std::process::exit(1);
    }
}
