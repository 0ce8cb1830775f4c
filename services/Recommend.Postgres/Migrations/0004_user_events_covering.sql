-- A user's purchased set and recent interactions come from this index alone (index-only scans): heavy buyers have
-- thousands of events, and both queries run on every Recommend call.
create index events_user_type_product on events (user_id, type, product_id, occurred_at);
