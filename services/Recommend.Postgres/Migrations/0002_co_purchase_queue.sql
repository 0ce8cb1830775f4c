-- Co-purchase pairs leave the ingest transaction. A writer now commits events, basket membership and popularity,
-- and queues each basket item it newly adds here; CoPurchaseUpdater folds queued items into co_purchases and
-- product_stats.baskets in batches and deletes them from the queue in the same transaction, so each item counts
-- exactly once. Deleting rows (rather than advancing a sequence watermark) is what makes that safe with concurrent
-- writers: identity values are handed out at insert but become visible at commit, out of order, so a watermark could
-- pass an item that commits later.
-- Items already in basket_items were counted by the writers before this migration: the queue starts empty. Old
-- writers (which still count pairs themselves) must be stopped before new ones start, or pairs between an old
-- writer's item and a queued one are counted twice.
create table co_purchase_queue (
    id         bigint generated always as identity primary key,
    basket_key text collate "C" not null,
    product_id text collate "C" not null,
    -- The updater asks "is this basket item still pending?" for every item of the baskets it touches.
    unique (basket_key, product_id)
);
