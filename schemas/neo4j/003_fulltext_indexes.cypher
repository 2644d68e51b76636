// Full-text (Lucene) indexes for keyword entry points. owner_token is indexed with the
// text so that every query can require the caller's owner (see store/neo4j/search.py).

CREATE FULLTEXT INDEX entity_names IF NOT EXISTS
FOR (n:Entity) ON EACH [n.name, n.alias_text, n.owner_token]
OPTIONS {indexConfig: {`fulltext.analyzer`: 'standard-no-stop-words'}};

CREATE FULLTEXT INDEX episode_content IF NOT EXISTS
FOR (n:Episode) ON EACH [n.content, n.owner_token]
OPTIONS {indexConfig: {`fulltext.analyzer`: 'english'}};

CREATE FULLTEXT INDEX fact_text IF NOT EXISTS
FOR (n:FactRecord) ON EACH [n.fact, n.owner_token]
OPTIONS {indexConfig: {`fulltext.analyzer`: 'english'}};
