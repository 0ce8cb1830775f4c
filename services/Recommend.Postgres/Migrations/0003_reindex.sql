-- Re-indexing: jobs with checkpoints and leases, their bad source rows, and per index version content hashes.
-- Enums are stored as integers (state: pending 1, running 2, verifying 3, succeeded 4, failed 5, cancelled 6),
-- times as unix milliseconds, as in the SQLite store.

create table reindex_jobs (
    id               text collate "C" primary key,
    mode             integer not null,
    source           text not null,
    model_id         text not null,
    dimension        integer not null,
    max_bad_rows     integer not null,
    target_version   text,
    state            integer not null,
    phase            integer not null,
    checkpoint       text collate "C",
    total            bigint not null,
    processed        bigint not null,
    embedded         bigint not null,
    cached           bigint not null,
    deleted          bigint not null,
    bad_rows         bigint not null,
    error            text,
    created_at       bigint not null,
    started_at       bigint,
    finished_at      bigint,
    owner            text,
    lease_expires_at bigint,
    cancel_requested boolean not null default false
);
-- At most one unfinished job, whichever replica inserts it.
create unique index reindex_jobs_one_active on reindex_jobs ((true)) where state in (1, 2, 3);

create table reindex_bad_rows (
    job_id     text collate "C" not null,
    line       bigint not null,
    product_id text not null,
    message    text not null,
    primary key (job_id, line)
);

-- What each index version holds per product; mark tags the products the last pass over it saw.
create table index_content_hashes (
    index_version text collate "C" not null,
    product_id    text collate "C" not null,
    content_hash  text not null,
    mark          text not null default '',
    primary key (index_version, product_id)
);
