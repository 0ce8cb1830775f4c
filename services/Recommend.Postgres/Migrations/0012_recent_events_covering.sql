-- Recent interactions read a window of the user's latest events from this index alone (an index-only scan in the
-- order it keeps): grouping every event of a customer with hundreds of thousands of them cost a Recommend call tens
-- of milliseconds.
drop index events_user_recent;
create index events_user_recent on events (user_id, occurred_at desc, type, product_id);
