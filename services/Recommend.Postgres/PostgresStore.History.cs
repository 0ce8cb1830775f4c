using Dapper;
using Npgsql;
using NpgsqlTypes;
using Recommend.Core.History;

namespace Recommend.Postgres;

public sealed partial class PostgresStore
{
    // The batch is copied into "incoming"; after InsertEvents it holds only the events that were new.
    // JIT compilation off for the batch: the statements below run for tens of milliseconds over a few thousand rows,
    // and a subquery's estimated cost can pass jit_above_cost, making PostgreSQL spend 25 ms compiling each batch.
    private const string CreateWorkTables =
        """
        set local jit = off;
        create temp table incoming (like events, basket_key text collate "C", popularity_key double precision, position integer) on commit drop
        """;

    private const string CopyIncoming =
        """
        copy incoming (event_id, type, user_id, product_id, quantity, price, occurred_at, recommendation_id, order_id,
                       basket_key, popularity_key, position)
        from stdin (format binary)
        """;

    // Its row count is the number of batch events that were already stored.
    private const string InsertEvents =
        """
        with inserted as (
            insert into events (event_id, type, user_id, product_id, quantity, price, occurred_at, recommendation_id, order_id)
            select event_id, type, user_id, product_id, quantity, price, occurred_at, recommendation_id, order_id
            from incoming
            order by event_id
            on conflict (event_id) do nothing
            returning event_id)
        delete from incoming i where not exists (select from inserted where inserted.event_id = i.event_id)
        """;

    // Pair counts and basket totals are CoPurchaseUpdater's work: here a basket item that is new is only queued for it,
    // in this transaction, so the queue holds exactly the committed items not yet counted. An item is paired when fewer
    // than @cap members of its basket are paired before it, in event order, as the SQLite store decides one event at a
    // time. (Two writers adding to one basket at once may both see the same count and pass the cap by a few items.)
    // Rows go in key order so that concurrent batches wait on each other's basket items in one order. The paired count
    // is a subquery per basket so that it reads each touched basket's index range whatever the planner guesses of the
    // unanalysed work table (a join here hashed all of basket_items, 60 ms a batch at 400,000 rows).
    private const string QueueNewBasketItems =
        """
        with fresh as (
            select i.basket_key, i.product_id, min(i.position) as position
            from incoming i
            where i.basket_key is not null
              and not exists (select from basket_items b where b.basket_key = i.basket_key and b.product_id = i.product_id)
            group by i.basket_key, i.product_id),
        already_paired as (
            select f.basket_key,
                   (select count(*) from basket_items b where b.basket_key = f.basket_key and b.paired) as members
            from (select distinct basket_key from fresh) f),
        added as (
            insert into basket_items (basket_key, product_id, paired)
            select f.basket_key, f.product_id,
                   p.members + row_number() over (partition by f.basket_key order by f.position) <= @cap
            from fresh f join already_paired p on p.basket_key = f.basket_key
            order by f.basket_key, f.product_id
            on conflict do nothing
            returning basket_key, product_id, paired)
        insert into co_purchase_queue (basket_key, product_id, paired)
        select basket_key, product_id, paired from added order by basket_key, product_id
        """;

    // New keys fold in batch order, as a store applying the events one by one would. Rows are locked in id order,
    // the order CoPurchaseUpdater locks them in too.
    private const string UpdatePopularity =
        """
        insert into product_stats (product_id, popularity_key)
        select product_id, log_sum_exp(popularity_key order by position)
        from incoming
        group by product_id
        order by product_id
        on conflict (product_id) do update set
            popularity_key = log_add_exp(product_stats.popularity_key, excluded.popularity_key)
        """;

    // Last: the counter row is held only until the commit, and never while the batch waits for another's rows.
    private const string CountPurchases =
        """
        insert into purchase_counts (shard, purchases)
        select @shard, count(*) from incoming where type = @purchase having count(*) > 0
        on conflict (shard) do update set purchases = purchase_counts.purchases + excluded.purchases
        """;

    /// <summary>Rows of purchase_counts (migration 0011) that writers spread their additions over.</summary>
    private const int PurchaseCountShards = 16;

    public async Task<RecordResult> RecordEventsAsync(IReadOnlyList<UserEvent> events, CancellationToken ct)
    {
        if (events.Count == 0) return new RecordResult(0, 0);

        // A repeated id within the batch is a duplicate like any other: the first occurrence is the one stored.
        var distinct = events.DistinctBy(e => e.EventId, StringComparer.Ordinal).ToList();
        // A retried attempt reuses the connection: the failed transaction was rolled back, its work table with it.
        var accepted = await RunAsync(connection => ConflictRetry.ExecuteAsync(
            async (state, token) => await RecordOnceAsync(state.connection, state.distinct, token), (connection, distinct), ct).AsTask(), ct);
        return new RecordResult(accepted, events.Count - accepted);
    }

    private static async Task<int> RecordOnceAsync(NpgsqlConnection connection, IReadOnlyList<UserEvent> events, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);

        await using (var create = new NpgsqlCommand(CreateWorkTables, connection, transaction))
            await create.ExecuteNonQueryAsync(ct);

        await using (var importer = await connection.BeginBinaryImportAsync(CopyIncoming, ct))
        {
            for (var position = 0; position < events.Count; position++)
            {
                var e = events[position];
                var isPurchase = e.Type == EventType.Purchase;
                await importer.StartRowAsync(ct);
                await importer.WriteAsync(e.EventId, NpgsqlDbType.Text, ct);
                await importer.WriteAsync((short)e.Type, NpgsqlDbType.Smallint, ct);
                await importer.WriteAsync(e.UserId, NpgsqlDbType.Text, ct);
                await importer.WriteAsync(e.ProductId, NpgsqlDbType.Text, ct);
                await importer.WriteAsync(e.Quantity, NpgsqlDbType.Integer, ct);
                await importer.WriteAsync(e.Price, NpgsqlDbType.Double, ct);
                await importer.WriteAsync(e.OccurredAt.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
                await importer.WriteAsync(e.RecommendationId, NpgsqlDbType.Text, ct);
                await importer.WriteAsync(e.OrderId, NpgsqlDbType.Text, ct);
                await importer.WriteAsync(isPurchase ? e.BasketKey : null, NpgsqlDbType.Text, ct);
                // Computed here, with Core's own formula, so every store derives the same per-event keys.
                await importer.WriteAsync(Popularity.Key(e.OccurredAt, Popularity.EventWeight(e.Type, e.Quantity)), NpgsqlDbType.Double, ct);
                await importer.WriteAsync(position, NpgsqlDbType.Integer, ct);
            }
            await importer.CompleteAsync(ct);
        }

        // One round trip; each statement sees the effects of the ones before it.
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(InsertEvents),
                new NpgsqlBatchCommand(QueueNewBasketItems) { Parameters = { new("cap", UserEvent.PairedProductsPerBasket) } },
                new NpgsqlBatchCommand(UpdatePopularity),
                new NpgsqlBatchCommand(CountPurchases)
                {
                    Parameters = { new("shard", (short)Random.Shared.Next(PurchaseCountShards)), new("purchase", (short)EventType.Purchase) },
                },
            },
        };
        await batch.ExecuteNonQueryAsync(ct);
        var alreadyStored = batch.BatchCommands[0].RecordsAffected;

        await transaction.CommitAsync(ct);
        return events.Count - alreadyStored;
    }

    public Task SettleCoPurchasesAsync(CancellationToken ct) => CreateCoPurchaseUpdater().DrainAsync(ct);

    public async Task<IReadOnlyList<Interaction>> GetRecentInteractionsAsync(string userId, int limit, CancellationToken ct)
    {
        if (limit <= 0) return [];
        var rows = await RunAsync(connection => connection.QueryAsync<(string ProductId, short Type, DateTime LatestAt, long Count)>(new CommandDefinition(
            """
            select product_id, type, max(occurred_at), count(*)
            from (
                select product_id, type, occurred_at from events
                where user_id = @UserId
                order by occurred_at desc, type, product_id
                limit @Window) latest
            group by product_id, type
            order by max(occurred_at) desc, product_id, type
            limit @Limit
            """, new { UserId = userId, Limit = limit, Window = (long)limit * IHistoryStore.EventsReadPerInteraction }, cancellationToken: ct)), ct);
        return rows.Select(r => new Interaction(r.ProductId, (EventType)r.Type, ToOffset(r.LatestAt), checked((int)r.Count))).ToList();
    }

    public async Task<IReadOnlySet<string>> GetPurchasedProductIdsAsync(string userId, CancellationToken ct)
    {
        var ids = await RunAsync(connection => connection.QueryAsync<string>(new CommandDefinition(
            "select distinct product_id from events where user_id = @UserId and type = @Purchase",
            new { UserId = userId, Purchase = (short)EventType.Purchase }, cancellationToken: ct)), ct);
        return ids.ToHashSet(StringComparer.Ordinal);
    }

    public async Task<IReadOnlyList<CoPurchase>> GetCoPurchasesAsync(IReadOnlyCollection<string> productIds, int limitPerProduct, CancellationToken ct)
    {
        if (productIds.Count == 0 || limitPerProduct <= 0) return [];
        var rows = await RunAsync(connection => connection.QueryAsync<(string Source, string Neighbour, long Count, long SourceBaskets, long NeighbourBaskets)>(new CommandDefinition(
            """
            select s.source, n.neighbour_id, n.count, coalesce(ss.baskets, 0), coalesce(ns.baskets, 0)
            from unnest(@Sources) with ordinality as s(source, position)
            cross join lateral (
                select neighbour_id, count from co_purchases
                where product_id = s.source
                order by count desc, neighbour_id
                limit @Limit) n
            left join product_stats ss on ss.product_id = s.source
            left join product_stats ns on ns.product_id = n.neighbour_id
            order by s.position, n.count desc, n.neighbour_id
            """,
            new { Sources = productIds.Distinct(StringComparer.Ordinal).ToArray(), Limit = limitPerProduct },
            cancellationToken: ct)), ct);
        return rows.Select(r => new CoPurchase(r.Source, r.Neighbour, r.Count, r.SourceBaskets, r.NeighbourBaskets)).ToList();
    }

    public async Task<IReadOnlyList<TrendingProduct>> GetTrendingAsync(string? category, int limit, CancellationToken ct)
    {
        if (limit <= 0) return [];
        // Two shapes so each can use its own index: the global ranking walks product_stats_trending; a category
        // starts from products_category.
        var sql = category is null
            ? """
              select s.product_id, coalesce(p.category, ''), s.popularity_key
              from product_stats s left join products p on p.id = s.product_id
              where s.popularity_key is not null
              order by s.popularity_key desc, s.product_id
              limit @Limit
              """
            : """
              select s.product_id, p.category, s.popularity_key
              from products p join product_stats s on s.product_id = p.id
              where p.category = @Category and s.popularity_key is not null
              order by s.popularity_key desc, s.product_id
              limit @Limit
              """;
        var rows = await RunAsync(connection => connection.QueryAsync<(string ProductId, string Category, double LogScore)>(new CommandDefinition(
            sql, new { Category = category, Limit = limit }, cancellationToken: ct)), ct);
        return rows.Select(r => new TrendingProduct(r.ProductId, r.Category, r.LogScore)).ToList();
    }

    // Npgsql reads timestamptz as a UTC DateTime.
    private static DateTimeOffset ToOffset(DateTime utc) => new(DateTime.SpecifyKind(utc, DateTimeKind.Utc));
}
