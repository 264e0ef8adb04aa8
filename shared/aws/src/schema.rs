//! The DynamoDB tables exactly as template.yaml declares them. The tests and the local run create
//! tables from this, so the template is the one definition.

use crate::config::{Tables, TABLES};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use serde::Deserialize;
use serde_yaml::Value;

/// template.yaml, compiled in.
pub const TEMPLATE: &str = include_str!("../../../template.yaml");

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct KeyElement {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDef {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct IndexSpec {
    pub index_name: String,
    pub key_schema: Vec<KeyElement>,
    pub projection: ProjectionSpec,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ProjectionSpec {
    pub projection_type: String,
    /// For `INCLUDE`: the attributes besides the keys.
    #[serde(default)]
    pub non_key_attributes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct TableSpec {
    #[serde(skip)]
    pub logical_id: String,
    pub key_schema: Vec<KeyElement>,
    pub attribute_definitions: Vec<AttributeDef>,
    pub billing_mode: Option<String>,
    #[serde(default)]
    pub global_secondary_indexes: Vec<IndexSpec>,
}

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("template.yaml is not valid YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("template.yaml has no Resources map")]
    NoResources,
    #[error("table {0}: {1}")]
    Table(String, String),
    #[error("creating table {0}: {1}")]
    Create(String, String),
}

/// Every `AWS::DynamoDB::Table` in the template.
pub fn tables_in(template: &str) -> Result<Vec<TableSpec>, SchemaError> {
    let doc: Value = serde_yaml::from_str(template)?;
    let resources = doc
        .get("Resources")
        .and_then(Value::as_mapping)
        .ok_or(SchemaError::NoResources)?;
    let mut specs = Vec::new();
    for (id, resource) in resources {
        if resource.get("Type").and_then(Value::as_str) != Some("AWS::DynamoDB::Table") {
            continue;
        }
        let id = id.as_str().unwrap_or_default().to_string();
        let props = resource
            .get("Properties")
            .cloned()
            .ok_or_else(|| SchemaError::Table(id.clone(), "no Properties".into()))?;
        let mut spec: TableSpec = serde_yaml::from_value(props)
            .map_err(|e| SchemaError::Table(id.clone(), e.to_string()))?;
        spec.logical_id = id;
        specs.push(spec);
    }
    Ok(specs)
}

fn key_schema(keys: &[KeyElement]) -> Vec<KeySchemaElement> {
    keys.iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(KeyType::from(k.key_type.as_str()))
                .build()
                .expect("name and type are set")
        })
        .collect()
}

/// Creates every table the template declares, under the names in `tables`.
pub async fn create_tables(client: &Client, tables: &Tables) -> Result<(), SchemaError> {
    for spec in tables_in(TEMPLATE)? {
        let name = tables
            .name_of(&spec.logical_id)
            .ok_or_else(|| {
                SchemaError::Table(spec.logical_id.clone(), "not in config::TABLES".into())
            })?
            .to_string();
        let mut req = client
            .create_table()
            .table_name(&name)
            .set_key_schema(Some(key_schema(&spec.key_schema)))
            .billing_mode(BillingMode::PayPerRequest);
        for a in &spec.attribute_definitions {
            req = req.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(&a.attribute_name)
                    .attribute_type(ScalarAttributeType::from(a.attribute_type.as_str()))
                    .build()
                    .expect("name and type are set"),
            );
        }
        for g in &spec.global_secondary_indexes {
            req = req.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(&g.index_name)
                    .set_key_schema(Some(key_schema(&g.key_schema)))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::from(
                                g.projection.projection_type.as_str(),
                            ))
                            .set_non_key_attributes(
                                Some(g.projection.non_key_attributes.clone())
                                    .filter(|a| !a.is_empty()),
                            )
                            .build(),
                    )
                    .build()
                    .expect("name, keys and projection are set"),
            );
        }
        match req.send().await {
            Ok(_) => {}
            // The SDK retries a CreateTable whose answer was slow; when the first attempt had
            // created the table, the retry meets it ("Cannot create preexisting table"). Every
            // caller names its tables freshly (a unique prefix), so the table is that attempt's.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_resource_in_use_exception()) => {}
            Err(e) => return Err(SchemaError::Create(name.clone(), format!("{e:?}"))),
        }
    }
    Ok(())
}

/// The logical ids of all tables in config, for checks that code and template agree.
pub fn configured_logical_ids() -> Vec<&'static str> {
    TABLES.iter().map(|(id, _)| *id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_and_config_declare_the_same_tables() {
        let specs = tables_in(TEMPLATE).unwrap();
        let mut in_template: Vec<_> = specs.iter().map(|s| s.logical_id.as_str()).collect();
        in_template.sort();
        let mut in_code = configured_logical_ids();
        in_code.sort();
        assert_eq!(in_template, in_code);
        for s in &specs {
            assert_eq!(
                s.billing_mode.as_deref(),
                Some("PAY_PER_REQUEST"),
                "{}",
                s.logical_id
            );
            let keys: Vec<_> = s
                .key_schema
                .iter()
                .map(|k| k.attribute_name.as_str())
                .collect();
            assert_eq!(
                keys,
                ["pk", "sk"],
                "{}: the adapter writes pk/sk",
                s.logical_id
            );
        }
    }

    #[test]
    fn every_function_gets_the_table_variables_from_ref() {
        let doc: Value = serde_yaml::from_str(TEMPLATE).unwrap();
        let env = &doc["Globals"]["Function"]["Environment"]["Variables"];
        for (logical, var) in TABLES {
            let v = &env[var];
            let tagged = match v {
                Value::Tagged(t) => t,
                other => panic!("{var} must be !Ref {logical}, got {other:?}"),
            };
            assert_eq!(tagged.tag, "!Ref");
            assert_eq!(tagged.value.as_str(), Some(logical));
        }
    }
}
