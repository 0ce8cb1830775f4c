-- Initial schema: catalog, behavioural events, the signals derived from them, and the embedding cache.
-- Product ids use the "C" collation so that id order is byte order everywhere (as in the SQLite store),
-- whatever locale the database was created with.

create table products (
    id          text collate "C" primary key,
    title       text not null,
    description text not null,
    category    text not null,
    price       double precision not null,
    in_stock    boolean not null,
    attributes  jsonb not null,
    updated_at  timestamptz not null default now()
);
-- Trending within a category joins through here.
create index products_category on products (category);

-- Events may name products the catalog does not know (yet): no foreign key on product_id.
create table events (
    event_id          text collate "C" primary key,
    type              smallint not null,
    user_id           text collate "C" not null,
    product_id        text collate "C" not null,
    quantity          integer not null,
    price             double precision not null,
    occurred_at       timestamptz not null,
    recommendation_id text,
    order_id          text
);
-- A user's recent interactions and purchases.
create index events_user_recent on events (user_id, occurred_at desc);

-- Which products each basket (order, or user and day) holds; a pair is new at most once.
create table basket_items (
    basket_key text collate "C" not null,
    product_id text collate "C" not null,
    primary key (basket_key, product_id)
);

-- Baskets containing both products, stored in both directions so neighbours are one index range away.
create table co_purchases (
    product_id   text collate "C" not null,
    neighbour_id text collate "C" not null,
    count        bigint not null,
    primary key (product_id, neighbour_id)
);
create index co_purchases_top on co_purchases (product_id, count desc, neighbour_id);

-- Per product: baskets containing it, and the log-sum-exp popularity key (see Popularity in Core).
create table product_stats (
    product_id     text collate "C" primary key,
    baskets        bigint not null default 0,
    popularity_key double precision
);
create index product_stats_trending on product_stats (popularity_key desc, product_id);

create table embedding_cache (
    model_id  text not null,
    dimension integer not null,
    text_hash text not null,
    vector    real[] not null,
    primary key (model_id, dimension, text_hash)
);

-- ln(e^a + e^b) with NULL standing for -infinity. exp() of a large negative argument raises an underflow
-- error in PostgreSQL, so gaps beyond 50 (where the correction is below double precision anyway) are cut off.
create function log_add_exp(a double precision, b double precision) returns double precision
language sql immutable parallel safe
as $$
    select case
        when a is null then b
        when b is null then a
        when abs(a - b) > 50 then greatest(a, b)
        else greatest(a, b) + ln(1 + exp(-abs(a - b)))
    end
$$;

-- Folds a product's new popularity keys pairwise, the way the in-process stores do.
create aggregate log_sum_exp(double precision) (
    sfunc = log_add_exp,
    stype = double precision
);
