// Vector (HNSW) indexes for semantic entry points: cosine over the embedder's vectors.
// {dimensions} is replaced by the embedder's dimension (a validated integer) when applied;
// the index of a store is created once, so a store keeps one embedder.

CREATE VECTOR INDEX entity_embedding IF NOT EXISTS
FOR (n:Entity) ON n.embedding
OPTIONS {indexConfig: {`vector.dimensions`: {dimensions}, `vector.similarity_function`: 'cosine'}};

CREATE VECTOR INDEX episode_embedding IF NOT EXISTS
FOR (n:Episode) ON n.embedding
OPTIONS {indexConfig: {`vector.dimensions`: {dimensions}, `vector.similarity_function`: 'cosine'}};

CREATE VECTOR INDEX fact_embedding IF NOT EXISTS
FOR (n:FactRecord) ON n.embedding
OPTIONS {indexConfig: {`vector.dimensions`: {dimensions}, `vector.similarity_function`: 'cosine'}};
