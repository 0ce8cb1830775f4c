using Npgsql;
using Recommend.Core.Errors;
using Recommend.Core.History;
using Recommend.Indexing.Jobs;
using Recommend.Testing.Postgres;

namespace Recommend.Postgres.Tests;

/// <summary>Behaviour specific to PostgreSQL: migrations, concurrency between writers, atomicity, start-up failures.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresStoreTests(PostgresCluster cluster)
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly DateTimeOffset Noon = new(2024, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Migrating_again_applies_nothing_and_each_version_is_recorded_once()
    {
        await using var dataSource = NpgsqlDataSource.Create(await cluster.CreateDatabaseAsync());
        var migrator = new PostgresMigrator(dataSource);

        var first = await migrator.MigrateAsync(None);
        var second = await migrator.MigrateAsync(None);

        Assert.Equal(PostgresMigrator.Migrations.Select(m => m.Version), first.Select(m => m.Version));
        Assert.Empty(second);
        Assert.Equal(PostgresMigrator.Migrations.Select(m => m.Version), await RecordedVersionsAsync(dataSource));
    }

    [Fact]
    public async Task Replicas_migrating_at_the_same_time_apply_each_migration_exactly_once()
    {
        await using var dataSource = NpgsqlDataSource.Create(await cluster.CreateDatabaseAsync());

        var applied = await Task.WhenAll(Enumerable.Range(0, 8)
            .Select(_ => Task.Run(() => new PostgresMigrator(dataSource).MigrateAsync(None))));

        Assert.Equal(PostgresMigrator.Migrations.Select(m => m.Version), applied.SelectMany(a => a).Select(m => m.Version));
        Assert.Equal(PostgresMigrator.Migrations.Select(m => m.Version), await RecordedVersionsAsync(dataSource));
    }

    [Fact]
    public async Task Concurrent_single_line_batches_of_the_same_orders_count_every_pair_exactly()
    {
        await using var store = await PostgresStore.OpenAsync(await cluster.CreateDatabaseAsync(), None);
        // Every order holds the same ten products, and every line arrives alone from one of eight writers:
        // the worst case for both per-basket ordering and contention on shared pair counters.
        const int orders = 12;
        var products = Enumerable.Range(0, 10).Select(i => $"p{i}").ToArray();
        var lines = (from order in Enumerable.Range(0, orders)
                     from product in products
                     select Purchase($"o{order}-{product}", $"u{order}", product, $"o{order}")).ToArray();
        new Random(11).Shuffle(lines);

        await Parallel.ForEachAsync(lines, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (line, ct) => await store.RecordEventsAsync([line], ct));
        Assert.Equal(lines.Length, await store.CreateCoPurchaseUpdater().DrainAsync());

        var pairs = await store.GetCoPurchasesAsync(products, products.Length, None);
        Assert.Equal(products.Length * (products.Length - 1), pairs.Count);
        Assert.All(pairs, pair => Assert.Equal((orders, orders, orders), (pair.Count, pair.SourceBaskets, pair.NeighbourBaskets)));
    }

    [Fact]
    public async Task A_batch_the_server_rejects_leaves_nothing_behind()
    {
        await using var store = await PostgresStore.OpenAsync(await cluster.CreateDatabaseAsync(), None);
        UserEvent[] valid = [Purchase("e1", "u1", "a", "o1"), Purchase("e2", "u1", "b", "o1")];
        // PostgreSQL text cannot hold NUL: the server rejects the last row after the others were copied.
        var poisoned = Purchase("e3", "u1\0", "c", "o1");

        await Assert.ThrowsAsync<PostgresException>(() => store.RecordEventsAsync([.. valid, poisoned], None));

        Assert.Empty(await store.GetRecentInteractionsAsync("u1", 10, None));
        Assert.Empty(await store.GetTrendingAsync(null, 10, None));
        Assert.Equal(new RecordResult(2, 0), await store.RecordEventsAsync(valid, None));
        Assert.Equal(2, await store.CreateCoPurchaseUpdater().DrainAsync());
        Assert.Equal([new CoPurchase("a", "b", 1, 1, 1)], await store.GetCoPurchasesAsync(["a"], 10, None));
    }

    [Fact]
    public async Task A_batch_cancelled_midway_rolls_back_the_writes_it_had_made()
    {
        var connectionString = await cluster.CreateDatabaseAsync();
        await using var store = await PostgresStore.OpenAsync(connectionString, None);
        var earlier = Purchase("e0", "u0", "a", "o0");
        await store.RecordEventsAsync([earlier], None);

        // Another session holds product a's statistics row, so the batch stops at its last step, after storing
        // its events and basket lines and queueing them for pair counting; cancelling there must undo all of them.
        await using var blocker = new NpgsqlConnection(connectionString);
        await blocker.OpenAsync();
        await using var blockingTransaction = await blocker.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("select 1 from product_stats where product_id = 'a' for update", blocker, blockingTransaction))
            await lockRow.ExecuteNonQueryAsync();

        using var cancellation = new CancellationTokenSource();
        var recording = store.RecordEventsAsync([Purchase("e1", "u1", "a", "o1"), Purchase("e2", "u1", "b", "o1")], cancellation.Token);
        await SessionLocks.WaitUntilASessionWaitsForALockAsync(blocker);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => recording);
        await blockingTransaction.RollbackAsync();
        Assert.Equal(1, await store.CreateCoPurchaseUpdater().DrainAsync());
        Assert.Empty(await store.GetRecentInteractionsAsync("u1", 10, None));
        Assert.Empty(await store.GetCoPurchasesAsync(["a", "b"], 10, None));
        Assert.Equal(["a"], (await store.GetTrendingAsync(null, 10, None)).Select(t => t.ProductId));
    }

    [Fact]
    public async Task An_unreachable_server_at_open_surfaces_as_a_transient_npgsql_exception()
    {
        var port = ClosedPort();

        var error = await Assert.ThrowsAnyAsync<NpgsqlException>(() =>
            PostgresStore.OpenAsync($"Host=127.0.0.1;Port={port};Username=postgres;Timeout=3", None));

        Assert.True(error.IsTransient);
    }

    [Fact]
    public async Task A_database_migrated_before_shard_times_keeps_its_sharded_job_and_records_times_after_migrating()
    {
        await using var dataSource = NpgsqlDataSource.Create(await cluster.CreateDatabaseAsync());
        await new PostgresMigrator(dataSource).MigrateAsync(upToVersion: 5, None);
        await using (var insert = dataSource.CreateCommand(
            """
            insert into reindex_jobs (id, mode, source, model_id, dimension, max_bad_rows, state, phase, total, processed, embedded,
                cached, deleted, bad_rows, created_at, shard_count)
            values ('rj-old', 1, 'store', 'm', 64, 0, 2, 0, 10, 3, 3, 0, 0, 0, 1700000000000, 2);
            insert into reindex_shards (job_id, shard_index, state, checkpoint, processed, embedded, owner, lease_expires_at)
            values ('rj-old', 0, 2, 'p3', 3, 3, 'worker-a', 1700000030000), ('rj-old', 1, 1, null, 0, 0, null, null);
            """))
            await insert.ExecuteNonQueryAsync();

        var store = new PostgresStore(dataSource);
        await store.MigrateAsync(None);

        var shards = await store.GetShardsAsync("rj-old", None);
        Assert.Equal((ReindexState.Running, "p3", 3L, "worker-a", (DateTimeOffset?)null),
            (shards[0].Run.State, shards[0].Run.Checkpoint, shards[0].Run.Counters.Processed, shards[0].Run.Owner, shards[0].Run.StartedAt));
        var startedAt = DateTimeOffset.FromUnixTimeMilliseconds(1700000031000);
        Assert.True(await store.SaveRunAsync(shards[0].Unit, shards[0].Run with { StartedAt = startedAt }, null, None));
        Assert.Equal(startedAt, (await store.GetShardsAsync("rj-old", None))[0].Run.StartedAt);
        Assert.Equal(3, (await store.GetJobAsync("rj-old", None))?.Run.Counters.Processed);
    }

    [Fact]
    public async Task A_database_from_before_purchase_counts_starts_them_from_the_purchases_already_stored()
    {
        await using var dataSource = NpgsqlDataSource.Create(await cluster.CreateDatabaseAsync());
        await new PostgresMigrator(dataSource).MigrateAsync(upToVersion: 10, None);
        await using (var insert = dataSource.CreateCommand(
            """
            insert into events (event_id, type, user_id, product_id, quantity, price, occurred_at) values
                ('e1', 4, 'u', 'p', 1, 1, now()), ('e2', 4, 'u', 'q', 1, 1, now()), ('e3', 1, 'u', 'p', 1, 1, now());
            """))
            await insert.ExecuteNonQueryAsync();

        var store = new PostgresStore(dataSource);
        await store.MigrateAsync(None);
        await store.RecordEventsAsync([new UserEvent("e4", EventType.Purchase, "u", "r", 1, 1, DateTimeOffset.UnixEpoch, null, "o")], None);

        Assert.Equal(3, await store.CountPurchasesAsync(None));
    }

    [Fact]
    public async Task Rebuilding_the_recent_events_index_keeps_events_readable_and_writable_while_it_waits_for_a_writer()
    {
        await using var dataSource = NpgsqlDataSource.Create(await cluster.CreateDatabaseAsync());
        await using var blocked = await StartMigrationBehindAnOpenWriteAsync(dataSource, None);

        // Meanwhile other sessions read and record events without queueing behind the rebuild.
        await using (var other = await dataSource.OpenConnectionAsync())
        {
            await using (var timeout = new NpgsqlCommand("set lock_timeout = '3s'", other)) await timeout.ExecuteNonQueryAsync();
            await InsertEventAsync(other, "e-meanwhile");
            await using var read = new NpgsqlCommand("select count(*) from events where user_id = 'u' and occurred_at <= now()", other);
            Assert.Equal(1L, await read.ExecuteScalarAsync());
        }
        Assert.False(blocked.Migrating.IsCompleted);
        await blocked.OpenBatch.CommitAsync();
        await blocked.Migrating.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(PostgresMigrator.Migrations.Select(m => m.Version), await RecordedVersionsAsync(dataSource));
        Assert.Equal([RecentEventsIndex("events_user_recent", valid: true)], await RecentEventsIndexesAsync(dataSource));
    }

    [Fact]
    public async Task A_migration_cancelled_mid_build_releases_the_lock_and_the_next_replica_finishes_it()
    {
        var connectionString = await cluster.CreateDatabaseAsync();
        // The cancelled replica stays up: its pooled connection, and the session on it, outlive the cancelled call.
        await using var first = NpgsqlDataSource.Create(connectionString);
        // Another replica, with sessions of its own: it would wait forever for a lock the cancelled one kept.
        await using var next = NpgsqlDataSource.Create(connectionString);
        using var cancellation = new CancellationTokenSource();
        await using (var blocked = await StartMigrationBehindAnOpenWriteAsync(first, cancellation.Token))
        {
            await cancellation.CancelAsync();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked.Migrating);
            await blocked.OpenBatch.CommitAsync();
        }
        // The interrupted concurrent build left its index behind, unusable.
        Assert.Contains(RecentEventsIndex("events_user_recent_covering", valid: false), await RecentEventsIndexesAsync(next));

        var applied = await new PostgresMigrator(next).MigrateAsync(None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal([12], applied.Select(m => m.Version));
        Assert.Equal([RecentEventsIndex("events_user_recent", valid: true)], await RecentEventsIndexesAsync(next));
    }

    [Fact]
    public async Task Before_it_is_migrated_and_when_its_connections_drop_the_store_answers_unavailable_without_addresses()
    {
        var connectionString = await cluster.CreateDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var store = new PostgresStore(dataSource);

        var early = await Assert.ThrowsAsync<DependencyUnavailableException>(() => store.CountProductsAsync(None));
        Assert.Equal(("store", false), (early.Dependency, store.IsReady));

        await store.MigrateAsync(None);
        Assert.Equal(0, await store.CountProductsAsync(None));
        // The server ends every session of the database, as a restart or a failover does: the pooled connection is dead.
        await using (var admin = new NpgsqlConnection(connectionString))
        {
            await admin.OpenAsync();
            await using var terminate = new NpgsqlCommand(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()", admin);
            await terminate.ExecuteNonQueryAsync();
        }

        var dropped = await Assert.ThrowsAsync<DependencyUnavailableException>(() => store.CountProductsAsync(None));
        var server = new NpgsqlConnectionStringBuilder(connectionString);
        Assert.DoesNotContain(server.Host!, dropped.Message);
        Assert.DoesNotContain(server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), dropped.Message);
        Assert.Equal(0, await store.CountProductsAsync(None)); // the pool opens a fresh connection
    }

    private static UserEvent Purchase(string eventId, string user, string product, string order) =>
        new(eventId, EventType.Purchase, user, product, 1, 2.5, Noon, null, order);

    private static async Task InsertEventAsync(NpgsqlConnection connection, string eventId, NpgsqlTransaction? transaction = null)
    {
        await using var insert = new NpgsqlCommand(
            "insert into events (event_id, type, user_id, product_id, quantity, price, occurred_at) values (@id, 1, 'u', 'p', 1, 1, now())",
            connection, transaction);
        insert.Parameters.AddWithValue("id", eventId);
        await insert.ExecuteNonQueryAsync();
    }

    /// <summary>A write transaction on events left open, and the migrations from 0012 on waiting for it.</summary>
    private sealed record BlockedMigration(NpgsqlConnection Writer, NpgsqlTransaction OpenBatch, Task<IReadOnlyList<Migration>> Migrating)
        : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await OpenBatch.DisposeAsync();
            await Writer.DisposeAsync();
        }
    }

    /// <summary>
    /// Migrates a new database to version 11, opens a write transaction on events, as a replica recording a batch, and
    /// starts the remaining migrations; returns once 0012's index build waits for that transaction.
    /// </summary>
    private static async Task<BlockedMigration> StartMigrationBehindAnOpenWriteAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await new PostgresMigrator(dataSource).MigrateAsync(upToVersion: 11, None);
        var writer = await dataSource.OpenConnectionAsync();
        var openBatch = await writer.BeginTransactionAsync();
        await InsertEventAsync(writer, "e-open", openBatch);
        var migrating = new PostgresMigrator(dataSource).MigrateAsync(ct);
        await SessionLocks.WaitUntilASessionWaitsForALockAsync(writer);
        return new BlockedMigration(writer, openBatch, migrating);
    }

    /// <summary>Migration 0012's covering index under <paramref name="name"/>, as <see cref="RecentEventsIndexesAsync"/> lists it.</summary>
    private static (string Name, string Definition, bool Valid) RecentEventsIndex(string name, bool valid) =>
        (name, $"CREATE INDEX {name} ON public.events USING btree (user_id, occurred_at DESC, type, product_id)", valid);

    /// <summary>The indexes on events whose name starts with events_user_recent: name, definition, usable.</summary>
    private static async Task<IReadOnlyList<(string Name, string Definition, bool Valid)>> RecentEventsIndexesAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand(
            """
            select i.relname, pg_get_indexdef(x.indexrelid), x.indisvalid
            from pg_index x join pg_class i on i.oid = x.indexrelid
            where x.indrelid = 'events'::regclass and i.relname like 'events\_user\_recent%'
            order by i.relname
            """);
        await using var reader = await command.ExecuteReaderAsync();
        var indexes = new List<(string, string, bool)>();
        while (await reader.ReadAsync()) indexes.Add((reader.GetString(0), reader.GetString(1), reader.GetBoolean(2)));
        return indexes;
    }

    private static async Task<IReadOnlyList<int>> RecordedVersionsAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("select version from schema_migrations order by version");
        await using var reader = await command.ExecuteReaderAsync();
        var versions = new List<int>();
        while (await reader.ReadAsync()) versions.Add(reader.GetInt32(0));
        return versions;
    }

    // A port nothing listens on: bound and released again.
    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
