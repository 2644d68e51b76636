// Range indexes on scope properties, lookup keys and temporal fields.
// Times are fixed-width UTC text, so range and ORDER BY use them in time order.

CREATE INDEX graphmem_entity_owner IF NOT EXISTS FOR (n:Entity) ON (n.owner);
CREATE INDEX graphmem_entity_normalized_name IF NOT EXISTS FOR (n:Entity) ON (n.normalized_name);
CREATE INDEX graphmem_entity_updated_at IF NOT EXISTS FOR (n:Entity) ON (n.updated_at);

CREATE INDEX graphmem_episode_owner IF NOT EXISTS FOR (n:Episode) ON (n.owner);
CREATE INDEX graphmem_episode_agent_id IF NOT EXISTS FOR (n:Episode) ON (n.agent_id);
CREATE INDEX graphmem_episode_run_id IF NOT EXISTS FOR (n:Episode) ON (n.run_id);
CREATE INDEX graphmem_episode_valid_at IF NOT EXISTS FOR (n:Episode) ON (n.valid_at);

CREATE INDEX graphmem_fact_owner IF NOT EXISTS FOR (n:FactRecord) ON (n.owner);
CREATE INDEX graphmem_fact_agent_id IF NOT EXISTS FOR (n:FactRecord) ON (n.agent_id);
CREATE INDEX graphmem_fact_run_id IF NOT EXISTS FOR (n:FactRecord) ON (n.run_id);
CREATE INDEX graphmem_fact_subject_id IF NOT EXISTS FOR (n:FactRecord) ON (n.subject_id);
CREATE INDEX graphmem_fact_object_id IF NOT EXISTS FOR (n:FactRecord) ON (n.object_id);
CREATE INDEX graphmem_fact_closed_by IF NOT EXISTS FOR (n:FactRecord) ON (n.closed_by_episode_id);
CREATE INDEX graphmem_fact_valid_at IF NOT EXISTS FOR (n:FactRecord) ON (n.valid_at);
CREATE INDEX graphmem_fact_invalid_at IF NOT EXISTS FOR (n:FactRecord) ON (n.invalid_at);
CREATE INDEX graphmem_fact_created_at IF NOT EXISTS FOR (n:FactRecord) ON (n.created_at);
CREATE INDEX graphmem_fact_expired_at IF NOT EXISTS FOR (n:FactRecord) ON (n.expired_at);

CREATE INDEX graphmem_fact_source_episode IF NOT EXISTS FOR (n:FactSource) ON (n.episode_id);
CREATE INDEX graphmem_fact_source_fact IF NOT EXISTS FOR (n:FactSource) ON (n.fact_id);

CREATE INDEX graphmem_audit_owner IF NOT EXISTS FOR (n:AuditEvent) ON (n.owner);
CREATE INDEX graphmem_audit_at IF NOT EXISTS FOR (n:AuditEvent) ON (n.at);
