-- Learned item-to-item models: one row per published version (the highest is live) and one per source product with
-- its neighbours encoded (see ItemModelRows). A version and its rows are written in one transaction.
create table item_models (
    version     bigint generated always as identity primary key,
    trained_at  bigint not null, -- unix milliseconds
    method      text   not null,
    products    bigint not null,
    neighbours  bigint not null,
    purchases   bigint not null,
    training_ms bigint not null
);

create table item_model_rows (
    version    bigint not null references item_models (version) on delete cascade,
    product_id text collate "C" not null,
    neighbours bytea  not null,
    primary key (version, product_id)
);
