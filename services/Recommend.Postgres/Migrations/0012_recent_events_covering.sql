-- recommend:no-transaction
-- Recent interactions read a window of the user's latest events from this index alone (an index-only scan in the
-- order it keeps): grouping every event of a customer with hundreds of thousands of them cost a Recommend call tens
-- of milliseconds.
-- Built concurrently beside the old index and swapped in by name, so replicas keep reading and recording events while
-- it builds (dropping the old index first, in a transaction, locked the events table for the whole rebuild). Safe to
-- run again after a crash at any step: an interrupted concurrent build leaves an invalid index, dropped first.
drop index concurrently if exists events_user_recent_covering;
create index concurrently events_user_recent_covering on events (user_id, occurred_at desc, type, product_id);
drop index concurrently if exists events_user_recent;
alter index events_user_recent_covering rename to events_user_recent;
