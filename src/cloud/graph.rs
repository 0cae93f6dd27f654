//! The few Microsoft Graph reads the checks need. Graph errors (`{"error":{"code","message"}}`) become
//! messages that say which permission or role is missing.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use super::http::{client, describe};
use crate::error::{Error, Result};

pub struct Graph {
    client: reqwest::Client,
    base: String,
    token: SecretString,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedDomain {
    pub name: String,
    #[serde(default)]
    pub is_default: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub verified_domains: Vec<VerifiedDomain>,
    /// `true` synced; `false` was synced, no longer; `null` never synced.
    #[serde(default)]
    pub on_premises_sync_enabled: Option<bool>,
    #[serde(default)]
    pub on_premises_last_sync_date_time: Option<String>,
}

/// A directory role the user holds, by template id (the tenant-independent id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRef {
    pub template_id: String,
    pub display_name: String,
}

impl Graph {
    pub fn new(base: &str, token: SecretString) -> Result<Self> {
        Ok(Self {
            client: client()?,
            base: base.to_string(),
            token,
        })
    }

    async fn get(&self, url: &str) -> Result<Value> {
        let response = self
            .client
            .get(url)
            .bearer_auth(self.token.expose_secret())
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| {
                Error::runtime(describe(url, &e))
                    .hint("check the network, the proxy and cloud.graph_url")
            })?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(body);
        }
        let code = body["error"]["code"].as_str().unwrap_or("unknown");
        let message = body["error"]["message"].as_str().unwrap_or("");
        let path = url.strip_prefix(&self.base).unwrap_or(url);
        let err = Error::runtime(format!(
            "Graph GET {path}: {} {code}: {message}",
            status.as_u16()
        ));
        Err(match status.as_u16() {
            401 => err.hint("the token was refused; sign in again"),
            403 => err.hint("the signed-in account or app lacks a Graph permission for this read (see --help for the permissions used)"),
            _ => err,
        })
    }

    /// Follows `@odata.nextLink` and returns every item of `value`.
    async fn get_all(&self, path: &str) -> Result<Vec<Value>> {
        let mut url = format!("{}{path}", self.base);
        let mut items = Vec::new();
        loop {
            let page = self.get(&url).await?;
            if let Some(values) = page["value"].as_array() {
                items.extend(values.iter().cloned());
            }
            match page["@odata.nextLink"].as_str() {
                Some(next) => url = self.same_origin(next)?,
                None => return Ok(items),
            }
        }
    }

    /// A next-page link, only if it points at the Graph endpoint the request went to: the bearer token is
    /// sent with it, and must never go to another host.
    fn same_origin(&self, next: &str) -> Result<String> {
        let origin = |u: &str| {
            reqwest::Url::parse(u).ok().map(|u| {
                (
                    u.scheme().to_string(),
                    u.host_str().map(str::to_ascii_lowercase),
                    u.port_or_known_default(),
                )
            })
        };
        match (origin(next), origin(&self.base)) {
            (Some(a), Some(b)) if a == b => Ok(next.to_string()),
            _ => Err(Error::runtime(format!(
                "Graph sent a next-page link to another host ({next}); not followed, so the token stays with {}",
                self.base
            ))
            .hint("check graph_url / --graph-url; a proxy may be rewriting Graph's answers")),
        }
    }

    fn parse<T: for<'de> Deserialize<'de>>(what: &str, value: Value) -> Result<T> {
        serde_json::from_value(value)
            .map_err(|e| Error::runtime(format!("unexpected Graph answer for {what}: {e}")))
    }

    pub async fn me(&self) -> Result<Me> {
        Self::parse("/me", self.get(&format!("{}/me", self.base)).await?)
    }

    pub async fn organization(&self) -> Result<Organization> {
        let orgs = self.get_all("/organization").await?;
        let org = orgs
            .into_iter()
            .next()
            .ok_or_else(|| Error::runtime("Graph /organization returned no tenant"))?;
        Self::parse("/organization", org)
    }

    /// Roles held now (active), from the signed-in user's transitive memberships.
    pub async fn active_roles(&self) -> Result<Vec<RoleRef>> {
        let items = self.get_all("/me/transitiveMemberOf").await?;
        Ok(items
            .iter()
            .filter(|i| i["@odata.type"] == "#microsoft.graph.directoryRole")
            .filter_map(|i| {
                Some(RoleRef {
                    template_id: i["roleTemplateId"].as_str()?.to_string(),
                    display_name: i["displayName"].as_str().unwrap_or("").to_string(),
                })
            })
            .collect())
    }

    /// Roles the user could activate through Privileged Identity Management (role definition ids).
    pub async fn eligible_role_ids(&self, user_id: &str) -> Result<Vec<String>> {
        let path = format!(
            "/roleManagement/directory/roleEligibilityScheduleInstances?$filter=principalId%20eq%20'{user_id}'"
        );
        let items = self.get_all(&path).await?;
        Ok(items
            .iter()
            .filter_map(|i| i["roleDefinitionId"].as_str().map(str::to_string))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_are_followed_only_on_the_graph_host_the_request_went_to() {
        let graph = Graph::new(
            "https://graph.microsoft.com/v1.0",
            SecretString::from("t".to_string()),
        )
        .unwrap();
        let same = "https://graph.microsoft.com/v1.0/me/transitiveMemberOf?$skiptoken=x";
        assert_eq!(graph.same_origin(same).unwrap(), same);
        for elsewhere in [
            "https://evil.example/v1.0/me?$skiptoken=x",
            "http://graph.microsoft.com/v1.0/me",
            "https://graph.microsoft.com:8443/v1.0/me",
            "https://graph.microsoft.com.evil.example/v1.0/me",
            "not a url",
        ] {
            assert!(graph.same_origin(elsewhere).is_err(), "{elsewhere}");
        }
    }
}
