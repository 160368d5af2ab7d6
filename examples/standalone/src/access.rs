//! Admin access from the command line and at first start: `relay user add`, `relay key add`,
//! and the bootstrap admin of a fresh store.

use relay_core::Relay;
use relay_core::control::admin::{AdminError, Principal, Role, generate_password};
use relay_core::model::ids::TenantId;
use relay_core::model::secret::Secret;

/// Why a user or key could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The admin operation was refused.
    #[error("{0}")]
    Admin(#[from] AdminError),
    /// `--password-env` names a variable that is not set.
    #[error("environment variable {0} is not set")]
    MissingEnv(String),
    /// `--tenant` names a tenant that is not in the registry.
    #[error("tenant {0:?} does not exist (create it with POST /api/v1/tenants)")]
    UnknownTenant(String),
}

fn system() -> Principal {
    Principal {
        actor: "cli".into(),
        ..Principal::system(TenantId::default())
    }
}

/// Creates a dashboard user. The password comes from the environment variable
/// `password_env`, or is generated and returned so it can be shown once.
pub async fn add_user(
    relay: &Relay,
    username: &str,
    role: Role,
    password_env: Option<&str>,
) -> Result<Option<Secret>, AccessError> {
    let (password, generated) = match password_env {
        Some(name) => {
            let value =
                std::env::var(name).map_err(|_| AccessError::MissingEnv(name.to_owned()))?;
            (Secret::new(value), false)
        }
        None => (generate_password(), true),
    };
    relay
        .access()
        .create_user(&system(), username, &password, role)
        .await?;
    Ok(generated.then_some(password))
}

/// Creates an API key (in `tenant`, default `default`) and returns its token (shown once).
pub async fn add_key(
    relay: &Relay,
    name: &str,
    role: Role,
    tenant: Option<&str>,
) -> Result<Secret, AccessError> {
    match tenant {
        None | Some(TenantId::DEFAULT) => Ok(relay
            .access()
            .create_api_key(&system(), name, role)
            .await?
            .token),
        Some(tenant) => match relay
            .tenants()
            .create_api_key(&system(), tenant, name, role)
            .await
        {
            Ok(created) => Ok(created.token),
            Err(AdminError::NotFound) => Err(AccessError::UnknownTenant(tenant.to_owned())),
            Err(other) => Err(other.into()),
        },
    }
}

/// On a store with neither users nor API keys, creates the user `admin` with a generated
/// password and prints it once on standard output. There is no default password.
pub async fn bootstrap(relay: &Relay) -> Result<(), AccessError> {
    let tenant = TenantId::default();
    let store = relay.store();
    let empty = store
        .users(&tenant)
        .await
        .map_err(AdminError::from)?
        .is_empty()
        && store
            .api_keys(&tenant)
            .await
            .map_err(AdminError::from)?
            .is_empty();
    if !empty {
        return Ok(());
    }
    let password = generate_password();
    let bootstrap = Principal {
        actor: "bootstrap".into(),
        ..Principal::system(tenant)
    };
    match relay
        .access()
        .create_user(&bootstrap, "admin", &password, Role::Admin)
        .await
    {
        Ok(_) => {
            println!(
                "first start: created the dashboard user \"admin\" with password {} \
                 (shown only now; add users and API keys with `relay user add` / `relay key add` \
                 or the admin API)",
                password.expose()
            );
            Ok(())
        }
        // Another node bootstrapped at the same moment.
        Err(AdminError::Conflict(_)) => Ok(()),
        Err(error) => Err(error.into()),
    }
}
