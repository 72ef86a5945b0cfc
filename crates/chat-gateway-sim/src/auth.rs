//! Who is calling: the `x-api-key` decides the customer's tenants, `X-8x8-Tenant` picks
//! one (P16). Every API operation except the JWK goes through here.

use axum::http::HeaderMap;

use crate::errors::ApiError;
use crate::seed::Seed;

/// The tenant an authorised call acts for.
#[derive(Debug, Clone)]
pub struct Caller {
    pub tenant: String,
}

/// Checks the key and resolves the tenant: a missing or unknown key is 401; a tenant
/// header naming another tenant, or none when the key has several, is 403.
pub fn authorize(seed: &Seed, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::Unauthorized)?;
    let entry = seed
        .api_keys
        .iter()
        .find(|k| k.key == key)
        .ok_or(ApiError::Unauthorized)?;
    let header = headers.get("x-8x8-tenant").and_then(|v| v.to_str().ok());
    let tenant = match header {
        Some(t) if entry.tenants.iter().any(|x| x == t) => t.to_string(),
        Some(_) => {
            return Err(ApiError::Forbidden(format!(
                "Header X-8x8-Tenant doesn't match tenant information for customerId={}",
                seed.customer_id
            )))
        }
        None if entry.tenants.len() == 1 => entry.tenants[0].clone(),
        None => {
            return Err(ApiError::Forbidden(format!(
                "Header X-8x8-Tenant is required: customerId={} has several tenants",
                seed.customer_id
            )))
        }
    };
    Ok(Caller { tenant })
}

/// The card PUTs carry the tenant in the path; it must be one of the key's tenants and
/// agree with the header when both are present.
pub fn authorize_path_tenant(
    seed: &Seed,
    headers: &HeaderMap,
    path_tenant: &str,
) -> Result<Caller, ApiError> {
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::Unauthorized)?;
    let entry = seed
        .api_keys
        .iter()
        .find(|k| k.key == key)
        .ok_or(ApiError::Unauthorized)?;
    let header = headers.get("x-8x8-tenant").and_then(|v| v.to_str().ok());
    let ok =
        entry.tenants.iter().any(|t| t == path_tenant) && header.is_none_or(|h| h == path_tenant);
    if !ok {
        return Err(ApiError::Forbidden(format!(
            "Tenant {path_tenant} doesn't match tenant information for customerId={}",
            seed.customer_id
        )));
    }
    Ok(Caller {
        tenant: path_tenant.to_string(),
    })
}
