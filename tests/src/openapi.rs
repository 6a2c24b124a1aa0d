//! Checks server answers against the OpenAPI document the server itself serves: the response
//! schema documented for a path, method and status must accept the body.

use serde_json::Value;

/// The served OpenAPI document.
pub struct ApiDocument {
    doc: Value,
}

impl ApiDocument {
    /// Fetches `/v1/openapi.json` from a running server.
    pub async fn fetch(base_url: &str) -> Self {
        let doc: Value = crate::http_client()
            .get(format!("{base_url}/v1/openapi.json"))
            .send()
            .await
            .expect("fetch the OpenAPI document")
            .json()
            .await
            .expect("the OpenAPI document is JSON");
        assert!(
            doc["openapi"].as_str().is_some_and(|v| v.starts_with('3')),
            "an OpenAPI 3 document"
        );
        ApiDocument { doc }
    }

    /// Validates a JSON body answered by `method path` with `status`.
    pub fn check(&self, method: &str, path: &str, status: u16, body: &Value) -> Result<(), String> {
        let response = &self.doc["paths"][path][method]["responses"][status.to_string()];
        if response.is_null() {
            return Err(format!("{method} {path} does not document status {status}"));
        }
        let schema = &response["content"]["application/json"]["schema"];
        if schema.is_null() {
            return Err(format!("{method} {path} {status} documents no JSON body"));
        }
        // Validate against the whole document so component references resolve.
        let mut root = self.doc.clone();
        if let (Some(map), Some(schema)) = (root.as_object_mut(), schema.as_object()) {
            for (k, v) in schema {
                map.insert(k.clone(), v.clone());
            }
        }
        let validator = jsonschema::validator_for(&root).map_err(|e| format!("bad schema: {e}"))?;
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("{method} {path} {status}: {}", errors.join("; ")))
        }
    }
}
