-- Purchases stored, kept by the transactions that store them: training asks every minute whether enough arrived, and
-- count(*) over events is a scan of millions of rows. Sixteen rows, so that concurrent writers (each adds to one row,
-- picked at random, as its last statement) rarely wait on each other; the total is their sum. Starts from the
-- purchases already stored (type 4).
create table purchase_counts (
    shard     smallint primary key check (shard between 0 and 15),
    purchases bigint not null
);
insert into purchase_counts (shard, purchases) select 0, count(*) from events where type = 4;
