//! The project and its impulses: which project the credentials reach, its impulses as
//! served, and when the project last changed.

use super::StudioClient;
use super::transport::decode_body;
use crate::api::error::ApiError;
use crate::api::models::*;

impl StudioClient {
    /// listProjects. With a project API key this is exactly the key's project.
    pub async fn list_projects(&self) -> Result<Vec<Project>, ApiError> {
        let r: ListProjectsResponse = self.get("listProjects", "/api/projects", &[]).await?;
        Ok(r.projects)
    }

    /// The project to work on: the one given, or the only one the credentials reach.
    pub async fn resolve_project(&self, explicit: Option<u64>) -> Result<u64, ApiError> {
        if let Some(id) = explicit {
            return Ok(id);
        }
        Ok(only_project(&self.list_projects().await?)?.id)
    }

    /// getAllImpulses.
    pub async fn list_impulses(&self, project: u64) -> Result<Vec<Impulse>, ApiError> {
        let r: GetAllImpulsesResponse = self
            .get("getAllImpulses", &format!("/api/{project}/impulses"), &[])
            .await?;
        Ok(r.impulses)
    }

    /// getImpulse: the given impulse, or the project's default one.
    pub async fn get_impulse(
        &self,
        project: u64,
        impulse: Option<u64>,
    ) -> Result<Impulse, ApiError> {
        let query: Vec<(&str, String)> = impulse
            .map(|id| vec![("impulseId", id.to_string())])
            .unwrap_or_default();
        let r: GetImpulseResponse = self
            .get("getImpulse", &format!("/api/{project}/impulse"), &query)
            .await?;
        r.impulse.ok_or_else(|| ApiError::Refused {
            operation: "getImpulse",
            message: match impulse {
                Some(id) => format!("project {project} has no impulse {id}"),
                None => format!("project {project} has no impulse yet"),
            },
        })
    }

    /// getImpulse, with a digest of the impulse exactly as served (every field, those
    /// ei-tune does not model too): what identifies the impulse's definition.
    pub async fn get_impulse_served(
        &self,
        project: u64,
        impulse: u64,
    ) -> Result<(Impulse, String), ApiError> {
        let operation = "getImpulse";
        let query = [("impulseId", impulse.to_string())];
        let body: serde_json::Value = self
            .get(operation, &format!("/api/{project}/impulse"), &query)
            .await?;
        let served = body.get("impulse").cloned().unwrap_or_default();
        let digest = crate::text::digest(&serde_json::to_vec(&served).unwrap_or_default());
        let r: GetImpulseResponse = decode_body(operation, body.to_string().as_bytes())?;
        let impulse = r.impulse.ok_or_else(|| ApiError::Refused {
            operation,
            message: format!("project {project} has no impulse {impulse}"),
        })?;
        Ok((impulse, digest))
    }

    /// getProjectLastModificationDate: the date Studio moves when the project's data is
    /// modified or an impulse is trained; `None` when the answer has no date.
    pub async fn last_modification(&self, project: u64) -> Result<Option<String>, ApiError> {
        let r: LastModificationDateResponse = self
            .get(
                "getProjectLastModificationDate",
                &format!("/api/{project}/last-modification"),
                &[],
            )
            .await?;
        Ok(r.date().map(str::to_string))
    }
}

/// The one project a project API key reaches; an error that says what to do otherwise.
pub fn only_project(projects: &[Project]) -> Result<&Project, ApiError> {
    match projects {
        [only] => Ok(only),
        [] => Err(ApiError::Refused {
            operation: "listProjects",
            message: "these credentials reach no project".into(),
        }),
        many => Err(ApiError::Config(format!(
            "these credentials reach {} projects; choose one with --project (ids: {})",
            many.len(),
            many.iter()
                .map(|p| p.id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}
