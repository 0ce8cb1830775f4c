-- Sharded re-indexing: N workers run one job (shard_count > 0), each shard with its own phase, checkpoint, counters
-- and lease (states as for jobs: pending 1, running 2, succeeded 4, failed 5, cancelled 6).
alter table reindex_jobs add column shard_count integer not null default 0;

create table reindex_shards (
    job_id           text collate "C" not null,
    shard_index      integer not null,
    state            integer not null,
    phase            integer not null default 0,
    checkpoint       text collate "C",
    processed        bigint not null default 0,
    embedded         bigint not null default 0,
    cached           bigint not null default 0,
    deleted          bigint not null default 0,
    bad_rows         bigint not null default 0,
    error            text,
    owner            text,
    lease_expires_at bigint,
    primary key (job_id, shard_index)
);
