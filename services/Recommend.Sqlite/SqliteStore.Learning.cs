using System.Runtime.CompilerServices;
using Dapper;
using Microsoft.Data.Sqlite;
using Recommend.Core.History;
using Recommend.Core.Learning;
using Recommend.Sql;

namespace Recommend.Sqlite;

public sealed partial class SqliteStore : IItemModelStore
{
    public async IAsyncEnumerable<PurchaseSummary> ReadPurchaseSummariesAsync([EnumeratorCancellation] CancellationToken ct)
    {
        if (_disposed) throw Closed();
        await using var connection = new SqliteConnection(_connectionString);
        await Guard(async () => { await connection.OpenAsync(ct); return true; });
        await using var command = connection.CreateCommand();
        // events_by_user_product delivers the rows already grouped: one pass over the index, nothing sorted.
        command.CommandText = """
            SELECT user_id, product_id, count(*), max(occurred_at)
            FROM events
            WHERE type = $purchase
            GROUP BY user_id, product_id
            ORDER BY user_id, product_id
            """;
        command.Parameters.AddWithValue("$purchase", (int)EventType.Purchase);
        await using var reader = await Guard(() => command.ExecuteReaderAsync(ct));
        while (await Guard(() => reader.ReadAsync(ct)))
        {
            yield return new PurchaseSummary(reader.GetString(0), reader.GetString(1), reader.GetInt32(2),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)));
        }
    }

    public Task<long> CountPurchasesAsync(CancellationToken ct) =>
        ReadAsync(connection => connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT purchases FROM history_totals WHERE id = 1", cancellationToken: ct)), ct);

    public Task<ItemModelInfo?> GetLiveModelInfoAsync(CancellationToken ct) =>
        ReadAsync(async connection => (await connection.QueryFirstOrDefaultAsync<ItemModelRows.InfoRow>(new CommandDefinition(
            $"SELECT {ItemModelRows.InfoColumns} FROM item_models ORDER BY version DESC LIMIT 1", cancellationToken: ct)))?.ToInfo(), ct);

    public Task<ItemToItemModel?> LoadLiveModelAsync(CancellationToken ct) =>
        ReadAsync(async connection =>
        {
            // One read transaction: the info and the rows come from the same snapshot even if a newer version lands.
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
            var info = (await connection.QueryFirstOrDefaultAsync<ItemModelRows.InfoRow>(new CommandDefinition(
                $"SELECT {ItemModelRows.InfoColumns} FROM item_models ORDER BY version DESC LIMIT 1", transaction: transaction, cancellationToken: ct)))?.ToInfo();
            if (info is null) return null;
            var model = new ItemToItemModel.Builder(info.Products, info.Neighbours);
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "SELECT product_id, neighbours FROM item_model_rows WHERE version = $version";
            command.Parameters.AddWithValue("$version", info.Version);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) ItemModelRows.AddRow(model, reader.GetString(0), (byte[])reader.GetValue(1));
            return model.Build(info);
        }, ct);

    public Task<ItemModelInfo> PublishModelAsync(ItemToItemModel model, CancellationToken ct) =>
        WriteAsync(transaction =>
        {
            var connection = transaction.Connection!;
            var version = connection.ExecuteScalar<long>("SELECT coalesce(max(version), 0) + 1 FROM item_models", transaction: transaction);
            var info = model.Info with { Version = version };
            connection.Execute(
                """
                INSERT INTO item_models (version, trained_at, method, products, neighbours, purchases, training_ms)
                VALUES (@Version, @TrainedAt, @Method, @Products, @Neighbours, @Purchases, @TrainingMs)
                """,
                new
                {
                    info.Version, TrainedAt = info.TrainedAt.ToUnixTimeMilliseconds(), info.Method, info.Products, info.Neighbours, info.Purchases,
                    TrainingMs = (long)info.TrainingTime.TotalMilliseconds,
                }, transaction);
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO item_model_rows (version, product_id, neighbours) VALUES ($version, $product, $neighbours)";
            insert.Parameters.AddWithValue("$version", version);
            var product = insert.Parameters.Add("$product", SqliteType.Text);
            var neighbours = insert.Parameters.Add("$neighbours", SqliteType.Blob);
            foreach (var (productId, row) in model.Rows)
            {
                ct.ThrowIfCancellationRequested();
                (product.Value, neighbours.Value) = (productId, ItemModelRows.Encode(row));
                insert.ExecuteNonQuery();
            }
            connection.Execute(
                "DELETE FROM item_model_rows WHERE version <= @oldest; DELETE FROM item_models WHERE version <= @oldest",
                new { oldest = version - ItemModelRows.KeptVersions }, transaction);
            return info;
        }, ct);

    /// <summary>The file faults <see cref="ReadAsync{T}"/> translates, for reads that stream.</summary>
    private static async Task<T> Guard<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (SqliteException e) when (IsFileFault(e))
        {
            throw Unavailable(e);
        }
    }
}
