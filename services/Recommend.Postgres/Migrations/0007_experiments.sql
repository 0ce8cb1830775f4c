-- Experiments, the users assigned to them and the items they were shown (one row per answer and product, so a replayed
-- batch counts once). Events find their experiment through recommendation_id, or by user and product within the window.
create table experiments (
    id                    text collate "C" primary key,
    name                  text not null,
    description           text not null,
    placements            jsonb not null,
    mode                  smallint not null,
    variants              jsonb not null,
    status                smallint not null, -- draft 1, running 2, stopped 3
    salt                  text not null,
    attribution_window_ms bigint not null,
    created_at            bigint not null, -- unix milliseconds
    started_at            bigint,
    stopped_at            bigint
);

create table experiment_assignments (
    experiment_id text collate "C" not null,
    user_id       text collate "C" not null,
    variant       text not null,
    first_at      timestamptz not null,
    primary key (experiment_id, user_id)
);

create table exposures (
    recommendation_id text collate "C" not null,
    product_id        text collate "C" not null,
    experiment_id     text collate "C" not null,
    variant           text not null,
    team              text not null,
    user_id           text collate "C" not null,
    position          integer not null,
    occurred_at       timestamptz not null,
    primary key (recommendation_id, product_id)
);
create index exposures_by_user on exposures (experiment_id, user_id, product_id, occurred_at);
create index exposures_by_time on exposures (experiment_id, occurred_at) include (user_id, variant);
