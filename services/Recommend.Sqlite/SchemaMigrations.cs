using Microsoft.Data.Sqlite;

namespace Recommend.Sqlite;

/// <summary>
/// Numbered schema scripts, applied in order at open. The applied version lives in <c>PRAGMA user_version</c>,
/// which SQLite stores in the file header and updates inside the same transaction as the script.
/// Never edit a released script: append a new one.
/// </summary>
internal static class SchemaMigrations
{
    private const string InitialSchema = """
        CREATE TABLE products (
            id          TEXT    NOT NULL PRIMARY KEY,
            title       TEXT    NOT NULL,
            description TEXT    NOT NULL,
            category    TEXT    NOT NULL,
            price       REAL    NOT NULL,
            in_stock    INTEGER NOT NULL CHECK (in_stock IN (0, 1)),
            attributes  TEXT    NOT NULL CHECK (json_valid(attributes)),
            updated_at  INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX products_by_category ON products (category, id);

        -- Events may name products the catalog does not know (history is often imported first): no foreign key.
        CREATE TABLE events (
            event_id          TEXT    NOT NULL PRIMARY KEY CHECK (length(event_id) > 0),
            type              INTEGER NOT NULL CHECK (type BETWEEN 1 AND 4),
            user_id           TEXT    NOT NULL,
            product_id        TEXT    NOT NULL CHECK (length(product_id) > 0),
            quantity          INTEGER NOT NULL,
            price             REAL    NOT NULL,
            occurred_at       INTEGER NOT NULL, -- unix milliseconds, the event's own time
            recommendation_id TEXT,
            order_id          TEXT
        );
        CREATE INDEX events_by_user_recent ON events (user_id, occurred_at DESC);

        CREATE TABLE basket_items (
            basket_key TEXT NOT NULL,
            product_id TEXT NOT NULL,
            PRIMARY KEY (basket_key, product_id)
        ) WITHOUT ROWID;

        -- One row per product seen in any event: baskets counts purchases' baskets,
        -- popularity_key = ln Σ wᵢ·exp(tᵢ/τ) (see Popularity).
        CREATE TABLE product_stats (
            product_id     TEXT    NOT NULL PRIMARY KEY,
            baskets        INTEGER NOT NULL,
            popularity_key REAL    NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX product_stats_by_popularity ON product_stats (popularity_key DESC, product_id);

        -- No foreign keys to product_stats: the store writes both in one transaction, and the checks cost
        -- a tenth of bulk-import time on the hottest write path.
        CREATE TABLE co_purchases (
            product_id   TEXT    NOT NULL,
            neighbour_id TEXT    NOT NULL,
            count        INTEGER NOT NULL,
            PRIMARY KEY (product_id, neighbour_id)
        ) WITHOUT ROWID;
        -- Covering (the primary key rides along): top neighbours of a product come straight off the index.
        CREATE INDEX co_purchases_by_count ON co_purchases (product_id, count DESC, neighbour_id);

        -- A rowid table: vectors are kilobytes, too large for WITHOUT ROWID's clustered b-tree.
        CREATE TABLE embedding_cache (
            model_id  TEXT    NOT NULL,
            dimension INTEGER NOT NULL,
            text_hash TEXT    NOT NULL,
            vector    BLOB    NOT NULL CHECK (length(vector) = 4 * dimension),
            PRIMARY KEY (model_id, dimension, text_hash)
        );
        """;

    /// <summary>Re-indexing: jobs with checkpoints and leases, their bad rows, and per-version content hashes.</summary>
    private const string Reindexing = """
        CREATE TABLE reindex_jobs (
            id               TEXT    NOT NULL PRIMARY KEY,
            mode             INTEGER NOT NULL,
            source           TEXT    NOT NULL,
            model_id         TEXT    NOT NULL,
            dimension        INTEGER NOT NULL,
            max_bad_rows     INTEGER NOT NULL,
            target_version   TEXT,
            state            INTEGER NOT NULL,
            phase            INTEGER NOT NULL,
            checkpoint       TEXT,
            total            INTEGER NOT NULL,
            processed        INTEGER NOT NULL,
            embedded         INTEGER NOT NULL,
            cached           INTEGER NOT NULL,
            deleted          INTEGER NOT NULL,
            bad_rows         INTEGER NOT NULL,
            error            TEXT,
            created_at       INTEGER NOT NULL, -- unix milliseconds, as every time below
            started_at       INTEGER,
            finished_at      INTEGER,
            owner            TEXT,
            lease_expires_at INTEGER,
            cancel_requested INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;
        -- One unfinished job (pending 1, running 2, verifying 3) at most, whoever inserts it.
        CREATE UNIQUE INDEX reindex_jobs_one_active ON reindex_jobs ((state IN (1, 2, 3))) WHERE state IN (1, 2, 3);

        CREATE TABLE reindex_bad_rows (
            job_id     TEXT    NOT NULL,
            line       INTEGER NOT NULL,
            product_id TEXT    NOT NULL,
            message    TEXT    NOT NULL,
            PRIMARY KEY (job_id, line)
        ) WITHOUT ROWID;

        -- What each index version holds per product; mark tags the products the last pass over it saw.
        CREATE TABLE index_content_hashes (
            index_version TEXT NOT NULL,
            product_id    TEXT NOT NULL,
            content_hash  TEXT NOT NULL,
            mark          TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (index_version, product_id)
        ) WITHOUT ROWID;
        """;

    /// <summary>
    /// A user's purchased set and recent interactions read only this index (no table lookups): heavy buyers have
    /// thousands of events, and both queries run on every Recommend call.
    /// </summary>
    private const string UserEventsCovering = """
        CREATE INDEX events_by_user_product ON events (user_id, type, product_id, occurred_at);
        """;

    /// <summary>
    /// Sharded re-indexing: N workers run one job (shard_count &gt; 0), each shard with its own phase, checkpoint,
    /// counters and lease (states as for jobs: pending 1, running 2, succeeded 4, failed 5, cancelled 6).
    /// </summary>
    private const string ReindexShards = """
        ALTER TABLE reindex_jobs ADD COLUMN shard_count INTEGER NOT NULL DEFAULT 0;

        CREATE TABLE reindex_shards (
            job_id           TEXT    NOT NULL,
            shard_index      INTEGER NOT NULL,
            state            INTEGER NOT NULL,
            phase            INTEGER NOT NULL DEFAULT 0,
            checkpoint       TEXT,
            processed        INTEGER NOT NULL DEFAULT 0,
            embedded         INTEGER NOT NULL DEFAULT 0,
            cached           INTEGER NOT NULL DEFAULT 0,
            deleted          INTEGER NOT NULL DEFAULT 0,
            bad_rows         INTEGER NOT NULL DEFAULT 0,
            error            TEXT,
            owner            TEXT,
            lease_expires_at INTEGER,
            PRIMARY KEY (job_id, shard_index)
        ) WITHOUT ROWID;
        """;

    /// <summary>A shard keeps the same run state as a job, start and finish times included.</summary>
    private const string ReindexShardTimes = """
        ALTER TABLE reindex_shards ADD COLUMN started_at INTEGER;
        ALTER TABLE reindex_shards ADD COLUMN finished_at INTEGER;
        """;

    /// <summary>
    /// Experiments, the users assigned to them and the items they were shown (one row per answer and product, so a
    /// replayed batch counts once). Events find their experiment through recommendation_id, or by user and product.
    /// </summary>
    private const string Experiments = """
        CREATE TABLE experiments (
            id                    TEXT    NOT NULL PRIMARY KEY,
            name                  TEXT    NOT NULL,
            description           TEXT    NOT NULL,
            placements            TEXT    NOT NULL CHECK (json_valid(placements)),
            mode                  INTEGER NOT NULL,
            variants              TEXT    NOT NULL CHECK (json_valid(variants)),
            status                INTEGER NOT NULL, -- draft 1, running 2, stopped 3
            salt                  TEXT    NOT NULL,
            attribution_window_ms INTEGER NOT NULL,
            created_at            INTEGER NOT NULL,
            started_at            INTEGER,
            stopped_at            INTEGER
        ) WITHOUT ROWID;

        CREATE TABLE experiment_assignments (
            experiment_id TEXT    NOT NULL,
            user_id       TEXT    NOT NULL,
            variant       TEXT    NOT NULL,
            first_at      INTEGER NOT NULL,
            PRIMARY KEY (experiment_id, user_id)
        ) WITHOUT ROWID;

        CREATE TABLE exposures (
            recommendation_id TEXT    NOT NULL,
            product_id        TEXT    NOT NULL,
            experiment_id     TEXT    NOT NULL,
            variant           TEXT    NOT NULL,
            team              TEXT    NOT NULL,
            user_id           TEXT    NOT NULL,
            position          INTEGER NOT NULL,
            occurred_at       INTEGER NOT NULL,
            PRIMARY KEY (recommendation_id, product_id)
        ) WITHOUT ROWID;
        CREATE INDEX exposures_by_user ON exposures (experiment_id, user_id, product_id, occurred_at);
        CREATE INDEX exposures_by_time ON exposures (experiment_id, occurred_at);
        """;

    /// <summary>
    /// Learned item-to-item models: one row per published version (the highest is live) and one per source product with
    /// its neighbours encoded (see ItemModelRows). A version and its rows are written in one transaction.
    /// </summary>
    private const string ItemModels = """
        CREATE TABLE item_models (
            version     INTEGER NOT NULL PRIMARY KEY,
            trained_at  INTEGER NOT NULL,
            method      TEXT    NOT NULL,
            products    INTEGER NOT NULL,
            neighbours  INTEGER NOT NULL,
            purchases   INTEGER NOT NULL,
            training_ms INTEGER NOT NULL
        );

        CREATE TABLE item_model_rows (
            version    INTEGER NOT NULL,
            product_id TEXT    NOT NULL,
            neighbours BLOB    NOT NULL,
            PRIMARY KEY (version, product_id)
        ) WITHOUT ROWID;
        """;

    /// <summary>
    /// Basket members beyond UserEvent.PairedProductsPerBasket form no co-purchase pairs. Existing members were all
    /// paired when they joined, so they keep paired = 1.
    /// </summary>
    private const string BasketPairCap = """
        ALTER TABLE basket_items ADD COLUMN paired INTEGER NOT NULL DEFAULT 1;
        """;

    /// <summary>
    /// Paired basket items of bulk batches whose co-purchase pairs are not counted yet (SqliteStore.CountQueuedPairs).
    /// An item is in the queue from the commit that added it to its basket until the one that counted its pairs.
    /// </summary>
    private const string CoPurchaseQueue = """
        CREATE TABLE co_purchase_queue (
            id         INTEGER PRIMARY KEY,
            basket_key TEXT    NOT NULL,
            product_id TEXT    NOT NULL,
            queued_at  INTEGER NOT NULL,
            UNIQUE (basket_key, product_id)
        );
        """;

    /// <summary>
    /// Purchases stored, kept by the transaction that stores them: training asks every minute whether enough arrived,
    /// and counting the events table for it is a scan of millions of rows. Starts from the events already there.
    /// </summary>
    private const string PurchaseTotal = """
        CREATE TABLE history_totals (
            id        INTEGER PRIMARY KEY CHECK (id = 1),
            purchases INTEGER NOT NULL
        );
        INSERT INTO history_totals (id, purchases) SELECT 1, count(*) FROM events WHERE type = 4;
        """;

    /// <summary>
    /// Recent interactions read a window of the user's latest events from this index alone, in the order it keeps: a
    /// customer with 360,000 events cost a Recommend call 76 ms when the query grouped all of them.
    /// </summary>
    private const string RecentEventsCovering = """
        DROP INDEX events_by_user_recent;
        CREATE INDEX events_by_user_recent ON events (user_id, occurred_at DESC, type, product_id);
        """;

    /// <summary>Script i brings the schema from version i to version i + 1.</summary>
    private static readonly string[] Scripts =
        [InitialSchema, Reindexing, UserEventsCovering, ReindexShards, ReindexShardTimes, Experiments, ItemModels, BasketPairCap, CoPurchaseQueue, PurchaseTotal, RecentEventsCovering];

    public static int LatestVersion => Scripts.Length;

    /// <param name="upTo">Stop at this version (tests build an older schema with it); default: the latest.</param>
    public static void Apply(SqliteConnection connection, int? upTo = null)
    {
        var latest = upTo ?? LatestVersion;
        while (true)
        {
            // IMMEDIATE takes the write lock before reading the version, so two processes opening a fresh file
            // cannot both apply the same script.
            using var transaction = connection.BeginTransaction(deferred: false);
            var version = ReadVersion(connection, transaction);
            if (version > LatestVersion)
            {
                throw new InvalidOperationException(
                    $"The database is at schema version {version}, newer than this build knows ({LatestVersion}).");
            }
            if (version >= latest) return;

            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = $"{Scripts[version]}\nPRAGMA user_version = {version + 1};";
                command.ExecuteNonQuery();
            }
            transaction.Commit();
        }
    }

    public static int ReadVersion(SqliteConnection connection, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "PRAGMA user_version;";
        return Convert.ToInt32(command.ExecuteScalar());
    }
}
