-- recommend:no-transaction
-- A user's purchased set and recent interactions come from this index alone (index-only scans): heavy buyers have
-- thousands of events, and both queries run on every Recommend call.
-- Built concurrently, so replicas keep recording events while it builds; a build a crash interrupted left an invalid
-- index under the same name, dropped first.
drop index concurrently if exists events_user_type_product;
create index concurrently events_user_type_product on events (user_id, type, product_id, occurred_at);
