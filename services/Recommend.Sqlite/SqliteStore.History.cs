using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Data.Sqlite;
using Recommend.Core.History;

namespace Recommend.Sqlite;

public sealed partial class SqliteStore
{
    /// <summary>
    /// Batches of more than this many events (bulk imports) have their co-purchase pairs counted after the commit, by
    /// <see cref="CountQueuedPairsAsync"/>; smaller ones (a storefront's checkout) count them in the same transaction.
    /// </summary>
    public const int CountPairsInlineUpTo = 1_000;

    public Task<RecordResult> RecordEventsAsync(IReadOnlyList<UserEvent> events, CancellationToken ct)
    {
        if (events.Count == 0) return Task.FromResult(default(RecordResult));
        EventsWritten();
        return WriteAsync(transaction => _eventWriter.Record(events, transaction, deferPairs: events.Count > CountPairsInlineUpTo, ct), ct);
    }

    public async Task<IReadOnlyList<Interaction>> GetRecentInteractionsAsync(string userId, int limit, CancellationToken ct)
    {
        return await ReadAsync(async connection =>
        {
            var rows = await connection.QueryAsync<InteractionRow>(new CommandDefinition(
                """
                SELECT product_id AS ProductId, type AS Type, max(occurred_at) AS LastAt, count(*) AS Count
                FROM (
                    SELECT product_id, type, occurred_at FROM events
                    WHERE user_id = @userId
                    ORDER BY occurred_at DESC, type, product_id
                    LIMIT @window)
                GROUP BY product_id, type
                ORDER BY LastAt DESC, ProductId, Type
                LIMIT @limit
                """,
                new { userId, limit, window = (long)limit * IHistoryStore.EventsReadPerInteraction }, cancellationToken: ct));
            return rows
                .Select(row => new Interaction(
                    row.ProductId, (EventType)row.Type, DateTimeOffset.FromUnixTimeMilliseconds(row.LastAt), row.Count))
                .ToList();
        }, ct);
    }

    public async Task<IReadOnlySet<string>> GetPurchasedProductIdsAsync(string userId, CancellationToken ct)
    {
        return await ReadAsync(async connection =>
        {
            var ids = await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT DISTINCT product_id FROM events WHERE user_id = @userId AND type = @purchase",
                new { userId, purchase = (int)EventType.Purchase }, cancellationToken: ct));
            return ids.ToHashSet(StringComparer.Ordinal);
        }, ct);
    }

    public async Task<IReadOnlyList<CoPurchase>> GetCoPurchasesAsync(
        IReadOnlyCollection<string> productIds, int limitPerProduct, CancellationToken ct)
    {
        return await ReadAsync(async connection =>
        {
            var result = new List<CoPurchase>();
            // One indexed top-N query per source: a popular product has thousands of neighbours, so ranking them all
            // in one windowed query would read far more than the limit. One command serves every source, so SQLite
            // compiles the statement once per call, not once per source.
            await using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT c.neighbour_id, c.count, source.baskets, neighbour.baskets
                FROM co_purchases c
                JOIN product_stats source ON source.product_id = c.product_id
                JOIN product_stats neighbour ON neighbour.product_id = c.neighbour_id
                WHERE c.product_id = $source
                ORDER BY c.count DESC, c.neighbour_id
                LIMIT $limit
                """;
            var sourceParameter = command.Parameters.Add("$source", SqliteType.Text);
            command.Parameters.AddWithValue("$limit", limitPerProduct);
            foreach (var source in productIds.Distinct(StringComparer.Ordinal))
            {
                sourceParameter.Value = source;
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                    result.Add(new CoPurchase(source, reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)));
            }
            return result;
        }, ct);
    }

    public async Task<IReadOnlyList<TrendingProduct>> GetTrendingAsync(string? category, int limit, CancellationToken ct)
    {
        return await ReadAsync(async connection =>
        {
            var sql = category is null
                ? """
                  SELECT s.product_id AS ProductId, coalesce(p.category, '') AS Category, s.popularity_key AS LogScore
                  FROM product_stats s
                  LEFT JOIN products p ON p.id = s.product_id
                  ORDER BY s.popularity_key DESC, s.product_id
                  LIMIT @limit
                  """
                : """
                  SELECT s.product_id AS ProductId, p.category AS Category, s.popularity_key AS LogScore
                  FROM product_stats s
                  JOIN products p ON p.id = s.product_id
                  WHERE p.category = @category
                  ORDER BY s.popularity_key DESC, s.product_id
                  LIMIT @limit
                  """;
            var rows = await connection.QueryAsync<TrendingRow>(new CommandDefinition(sql, new { category, limit }, cancellationToken: ct));
            return rows.Select(row => new TrendingProduct(row.ProductId, row.Category, row.LogScore)).ToList();
        }, ct);
    }

    // Row classes have settable properties rather than constructors: on an empty result SQLite cannot tell Dapper
    // the type of a computed column, and constructor mapping needs exact types.
    private sealed class InteractionRow
    {
        public string ProductId { get; set; } = "";
        public int Type { get; set; }
        public long LastAt { get; set; }
        public int Count { get; set; }
    }

    private sealed class TrendingRow
    {
        public string ProductId { get; set; } = "";
        public string Category { get; set; } = "";
        public double LogScore { get; set; }
    }

    /// <summary>
    /// Prepared statements for event ingestion, owned by the writer connection and reused for every batch:
    /// bulk history import runs them hundreds of thousands of times.
    /// </summary>
    private sealed class EventWriter : IDisposable
    {
        private readonly SqliteCommand _insertEvent;
        private readonly SqliteCommand _countPairedMembers;
        private readonly SqliteCommand _joinBasket;
        private readonly SqliteCommand _rememberBatchMember;
        private readonly SqliteCommand _queueForPairing;
        private readonly SqliteCommand _takeQueued;
        private readonly SqliteCommand _dequeueTaken;
        private readonly SqliteCommand _addToStats;
        private readonly SqliteCommand _countNewPairs;
        private readonly SqliteCommand _clearBatchMembers;
        private readonly SqliteCommand _addPurchases;

        public EventWriter(SqliteConnection writer)
        {
            // The basket memberships this batch added. Temporary tables live on this connection only and roll back
            // with the batch, so the table is empty whenever a batch begins.
            using (var create = writer.CreateCommand())
            {
                create.CommandText = """
                    CREATE TEMP TABLE batch_members (
                        basket_key TEXT NOT NULL,
                        product_id TEXT NOT NULL,
                        PRIMARY KEY (basket_key, product_id)
                    ) WITHOUT ROWID
                    """;
                create.ExecuteNonQuery();
            }
            _insertEvent = Prepare(writer, """
                INSERT INTO events (event_id, type, user_id, product_id, quantity, price, occurred_at, recommendation_id, order_id)
                VALUES ($event_id, $type, $user_id, $product_id, $quantity, $price, $occurred_at, $recommendation_id, $order_id)
                ON CONFLICT (event_id) DO NOTHING
                """);
            _countPairedMembers = Prepare(writer, """
                SELECT count(*) FROM (SELECT 1 FROM basket_items WHERE basket_key = $basket_key AND paired = 1 LIMIT $cap)
                """);
            _joinBasket = Prepare(writer, """
                INSERT INTO basket_items (basket_key, product_id, paired) VALUES ($basket_key, $product_id, $paired)
                ON CONFLICT DO NOTHING
                """);
            _rememberBatchMember = Prepare(writer,
                "INSERT INTO temp.batch_members (basket_key, product_id) VALUES ($basket_key, $product_id)");
            _queueForPairing = Prepare(writer,
                "INSERT INTO co_purchase_queue (basket_key, product_id, queued_at) VALUES ($basket_key, $product_id, $queued_at)");
            // Oldest first; the two statements run in one write transaction, so they pick the same rows.
            _takeQueued = Prepare(writer, """
                INSERT INTO temp.batch_members (basket_key, product_id)
                SELECT basket_key, product_id FROM co_purchase_queue ORDER BY id LIMIT $limit
                """);
            _dequeueTaken = Prepare(writer,
                "DELETE FROM co_purchase_queue WHERE id IN (SELECT id FROM co_purchase_queue ORDER BY id LIMIT $limit)");
            _addToStats = Prepare(writer, """
                INSERT INTO product_stats (product_id, baskets, popularity_key) VALUES ($product_id, $new_baskets, $key)
                ON CONFLICT (product_id) DO UPDATE SET
                    baskets = baskets + excluded.baskets,
                    popularity_key = log_add_exp(popularity_key, excluded.popularity_key)
                """);
            // Every pair of a basket is counted once, when the later of its products is counted. In a basket holding
            // counted members O and the members N being counted now (this batch's, or those taken from the queue),
            // the new directed pairs are (n, every other counted member) and (o, n); members still queued are left to
            // the batch that takes them. Counting in one set-based statement and applying the pairs in key order is
            // much faster than pairing event by event: bulk history import is dominated by these writes.
            _countNewPairs = Prepare(writer, """
                INSERT INTO co_purchases (product_id, neighbour_id, count)
                SELECT source, neighbour, count(*)
                FROM (
                    SELECT n.product_id AS source, m.product_id AS neighbour
                    FROM temp.batch_members n
                    JOIN basket_items m ON m.basket_key = n.basket_key AND m.product_id <> n.product_id AND m.paired = 1
                    WHERE NOT EXISTS (
                        SELECT 1 FROM co_purchase_queue q WHERE q.basket_key = m.basket_key AND q.product_id = m.product_id)
                    UNION ALL
                    SELECT o.product_id, n.product_id
                    FROM temp.batch_members n
                    JOIN basket_items o ON o.basket_key = n.basket_key AND o.paired = 1
                    WHERE NOT EXISTS (
                        SELECT 1 FROM temp.batch_members x WHERE x.basket_key = o.basket_key AND x.product_id = o.product_id)
                      AND NOT EXISTS (
                        SELECT 1 FROM co_purchase_queue q WHERE q.basket_key = o.basket_key AND q.product_id = o.product_id)
                )
                GROUP BY source, neighbour
                ORDER BY source, neighbour
                ON CONFLICT (product_id, neighbour_id) DO UPDATE SET count = count + excluded.count
                """);
            _clearBatchMembers = Prepare(writer, "DELETE FROM temp.batch_members");
            _addPurchases = Prepare(writer, "UPDATE history_totals SET purchases = purchases + $purchases WHERE id = 1");
        }

        /// <param name="deferPairs">Queue the batch's paired basket items instead of counting their pairs now.</param>
        public RecordResult Record(IReadOnlyList<UserEvent> events, SqliteTransaction transaction, bool deferPairs, CancellationToken ct)
        {
            Enlist(transaction);
            var queuedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

            var accepted = 0;
            var purchases = 0;
            var joinedBaskets = false;
            // Paired members of each basket this batch touches: read once per basket, then kept here (this transaction
            // is the only writer), instead of counted again for every line of a large order.
            var pairedMembers = new Dictionary<string, long>(StringComparer.Ordinal);
            for (var i = 0; i < events.Count; i++)
            {
                ct.ThrowIfCancellationRequested();
                var e = events[i];
                if (!InsertEvent(e)) continue;
                accepted++;
                if (e.Type == EventType.Purchase) purchases++;

                var newInBasket = e.Type == EventType.Purchase && JoinBasket(e, pairedMembers, deferPairs ? queuedAt : null);
                joinedBaskets |= newInBasket;
                _addToStats.Parameters["$product_id"].Value = e.ProductId;
                _addToStats.Parameters["$new_baskets"].Value = newInBasket ? 1 : 0;
                _addToStats.Parameters["$key"].Value = Popularity.Key(e.OccurredAt, Popularity.EventWeight(e.Type, e.Quantity));
                _addToStats.ExecuteNonQuery();
            }

            if (joinedBaskets && !deferPairs)
            {
                ct.ThrowIfCancellationRequested();
                _countNewPairs.ExecuteNonQuery();
                _clearBatchMembers.ExecuteNonQuery();
            }
            if (purchases > 0)
            {
                _addPurchases.Parameters["$purchases"].Value = purchases;
                _addPurchases.ExecuteNonQuery();
            }
            return new RecordResult(accepted, events.Count - accepted);
        }

        /// <summary>Counts the pairs of up to <paramref name="limit"/> queued items, oldest first; returns how many it took.</summary>
        public int CountQueued(SqliteTransaction transaction, int limit)
        {
            Enlist(transaction);
            _takeQueued.Parameters["$limit"].Value = limit;
            var taken = _takeQueued.ExecuteNonQuery();
            if (taken == 0) return 0;
            _dequeueTaken.Parameters["$limit"].Value = limit;
            _dequeueTaken.ExecuteNonQuery();
            _countNewPairs.ExecuteNonQuery();
            _clearBatchMembers.ExecuteNonQuery();
            return taken;
        }

        private void Enlist(SqliteTransaction transaction)
        {
            foreach (var command in new[] { _insertEvent, _countPairedMembers, _joinBasket, _rememberBatchMember, _queueForPairing, _takeQueued, _dequeueTaken, _addToStats, _countNewPairs, _clearBatchMembers, _addPurchases })
                command.Transaction = transaction;
        }

        /// <summary>
        /// Adds the purchase's product to its basket; false when the basket already held it. Only the basket's first
        /// <see cref="UserEvent.PairedProductsPerBasket"/> products are paired: now, or queued at <paramref name="queuedAt"/>.
        /// </summary>
        private bool JoinBasket(UserEvent purchase, Dictionary<string, long> pairedMembers, long? queuedAt)
        {
            var basketKey = purchase.BasketKey;
            ref var members = ref CollectionsMarshal.GetValueRefOrAddDefault(pairedMembers, basketKey, out var known);
            if (!known)
            {
                _countPairedMembers.Parameters["$basket_key"].Value = basketKey;
                _countPairedMembers.Parameters["$cap"].Value = UserEvent.PairedProductsPerBasket;
                members = (long)_countPairedMembers.ExecuteScalar()!;
            }
            var paired = members < UserEvent.PairedProductsPerBasket;
            _joinBasket.Parameters["$basket_key"].Value = basketKey;
            _joinBasket.Parameters["$product_id"].Value = purchase.ProductId;
            _joinBasket.Parameters["$paired"].Value = paired ? 1 : 0;
            if (_joinBasket.ExecuteNonQuery() == 0) return false;
            if (!paired) return true;
            members++;
            if (queuedAt is { } at)
            {
                _queueForPairing.Parameters["$basket_key"].Value = basketKey;
                _queueForPairing.Parameters["$product_id"].Value = purchase.ProductId;
                _queueForPairing.Parameters["$queued_at"].Value = at;
                _queueForPairing.ExecuteNonQuery();
                return true;
            }
            _rememberBatchMember.Parameters["$basket_key"].Value = basketKey;
            _rememberBatchMember.Parameters["$product_id"].Value = purchase.ProductId;
            _rememberBatchMember.ExecuteNonQuery();
            return true;
        }

        /// <summary>Returns false when the event id is already stored (including earlier in this batch).</summary>
        private bool InsertEvent(UserEvent e)
        {
            var p = _insertEvent.Parameters;
            p["$event_id"].Value = e.EventId;
            p["$type"].Value = (int)e.Type;
            p["$user_id"].Value = e.UserId;
            p["$product_id"].Value = e.ProductId;
            p["$quantity"].Value = e.Quantity;
            p["$price"].Value = e.Price;
            p["$occurred_at"].Value = e.OccurredAt.ToUnixTimeMilliseconds();
            p["$recommendation_id"].Value = (object?)e.RecommendationId ?? DBNull.Value;
            p["$order_id"].Value = (object?)e.OrderId ?? DBNull.Value;
            return _insertEvent.ExecuteNonQuery() == 1;
        }

        private static SqliteCommand Prepare(SqliteConnection connection, string sql)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in ParameterNames(sql))
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            command.Prepare();
            return command;
        }

        private static IEnumerable<string> ParameterNames(string sql) =>
            Regex.Matches(sql, @"\$[a-z_]+")
                .Select(match => match.Value)
                .Distinct(StringComparer.Ordinal);

        public void Dispose()
        {
            _insertEvent.Dispose();
            _countPairedMembers.Dispose();
            _joinBasket.Dispose();
            _rememberBatchMember.Dispose();
            _queueForPairing.Dispose();
            _takeQueued.Dispose();
            _dequeueTaken.Dispose();
            _addToStats.Dispose();
            _countNewPairs.Dispose();
            _clearBatchMembers.Dispose();
            _addPurchases.Dispose();
        }
    }
}
