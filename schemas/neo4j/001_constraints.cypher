// graphmem on Neo4j 5.15+: uniqueness constraints (each is backed by a range index on id).
// Applied on every connect; IF NOT EXISTS makes that idempotent.

CREATE CONSTRAINT graphmem_entity_id IF NOT EXISTS
FOR (n:Entity) REQUIRE n.id IS UNIQUE;

CREATE CONSTRAINT graphmem_episode_id IF NOT EXISTS
FOR (n:Episode) REQUIRE n.id IS UNIQUE;

CREATE CONSTRAINT graphmem_fact_record_id IF NOT EXISTS
FOR (n:FactRecord) REQUIRE n.id IS UNIQUE;

CREATE CONSTRAINT graphmem_audit_event_id IF NOT EXISTS
FOR (n:AuditEvent) REQUIRE n.id IS UNIQUE;

CREATE CONSTRAINT graphmem_meta_key IF NOT EXISTS
FOR (n:GraphmemMeta) REQUIRE n.key IS UNIQUE;
