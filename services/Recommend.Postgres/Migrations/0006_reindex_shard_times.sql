-- A shard keeps the same run state as a job, start and finish times included (unix milliseconds).
alter table reindex_shards add column started_at bigint, add column finished_at bigint;
