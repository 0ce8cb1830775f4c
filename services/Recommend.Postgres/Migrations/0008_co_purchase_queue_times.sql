-- When each basket item was queued, so the updater can report how far co-purchase counts lag behind purchases.
-- Items already queued take the migration's time: their lag is at least that old, which is what the gauge shows.
alter table co_purchase_queue add column queued_at timestamptz not null default now();
