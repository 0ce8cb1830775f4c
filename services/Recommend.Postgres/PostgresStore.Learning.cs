using System.Runtime.CompilerServices;
using Dapper;
using Npgsql;
using NpgsqlTypes;
using Recommend.Core.History;
using Recommend.Core.Learning;
using Recommend.Sql;

namespace Recommend.Postgres;

public sealed partial class PostgresStore : IItemModelStore
{
    public async IAsyncEnumerable<PurchaseSummary> ReadPurchaseSummariesAsync([EnumeratorCancellation] CancellationToken ct)
    {
        if (!IsReady) throw PostgresFaults.NotReady();
        await using var connection = await Guard(() => _dataSource.OpenConnectionAsync(ct).AsTask(), ct);
        await using var command = new NpgsqlCommand(
            """
            select user_id, product_id, count(*)::int, max(occurred_at)
            from events
            where type = @purchase
            group by user_id, product_id
            order by user_id, product_id
            """, connection);
        command.Parameters.AddWithValue("purchase", (short)EventType.Purchase);
        await using var reader = await Guard(() => command.ExecuteReaderAsync(ct), ct);
        while (await Guard(() => reader.ReadAsync(ct), ct))
        {
            yield return new PurchaseSummary(reader.GetString(0), reader.GetString(1), reader.GetInt32(2),
                reader.GetFieldValue<DateTimeOffset>(3));
        }
    }

    public Task<long> CountPurchasesAsync(CancellationToken ct) =>
        RunAsync(connection => connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "select coalesce(sum(purchases), 0)::bigint from purchase_counts", cancellationToken: ct)), ct);

    public Task<ItemModelInfo?> GetLiveModelInfoAsync(CancellationToken ct) =>
        RunAsync(async connection => (await connection.QueryFirstOrDefaultAsync<ItemModelRows.InfoRow>(new CommandDefinition(
            $"select {ItemModelRows.InfoColumns} from item_models order by version desc limit 1", cancellationToken: ct)))?.ToInfo(), ct);

    public Task<ItemToItemModel?> LoadLiveModelAsync(CancellationToken ct) =>
        RunAsync(async connection =>
        {
            // Repeatable read: the info and the rows come from one snapshot even if a newer version is published meanwhile.
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
            var info = (await connection.QueryFirstOrDefaultAsync<ItemModelRows.InfoRow>(new CommandDefinition(
                $"select {ItemModelRows.InfoColumns} from item_models order by version desc limit 1", transaction: transaction, cancellationToken: ct)))?.ToInfo();
            if (info is null) return null;
            var model = new ItemToItemModel.Builder(info.Products, info.Neighbours);
            await using var command = new NpgsqlCommand("select product_id, neighbours from item_model_rows where version = @version", connection, transaction);
            command.Parameters.AddWithValue("version", info.Version);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) ItemModelRows.AddRow(model, reader.GetString(0), reader.GetFieldValue<byte[]>(1));
            return model.Build(info);
        }, ct);

    public Task<ItemModelInfo> PublishModelAsync(ItemToItemModel model, CancellationToken ct) =>
        RunAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(ct);
            var info = model.Info;
            var version = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                """
                insert into item_models (trained_at, method, products, neighbours, purchases, training_ms)
                values (@TrainedAt, @Method, @Products, @Neighbours, @Purchases, @TrainingMs)
                returning version
                """,
                new
                {
                    TrainedAt = info.TrainedAt.ToUnixTimeMilliseconds(), info.Method, Products = (long)info.Products, info.Neighbours, info.Purchases,
                    TrainingMs = (long)info.TrainingTime.TotalMilliseconds,
                }, transaction, cancellationToken: ct));
            // Binary COPY: a million rows in seconds, inside the same transaction as the version they belong to.
            await using (var importer = await connection.BeginBinaryImportAsync(
                "copy item_model_rows (version, product_id, neighbours) from stdin (format binary)", ct))
            {
                foreach (var (productId, row) in model.Rows)
                {
                    await importer.StartRowAsync(ct);
                    await importer.WriteAsync(version, NpgsqlDbType.Bigint, ct);
                    await importer.WriteAsync(productId, NpgsqlDbType.Text, ct);
                    await importer.WriteAsync(ItemModelRows.Encode(row), NpgsqlDbType.Bytea, ct);
                }
                await importer.CompleteAsync(ct);
            }
            // Older versions go (their rows cascade); the previous one stays for inspection.
            await connection.ExecuteAsync(new CommandDefinition(
                "delete from item_models where version <= @oldest", new { oldest = version - ItemModelRows.KeptVersions }, transaction, cancellationToken: ct));
            await transaction.CommitAsync(ct);
            return info with { Version = version };
        }, ct);

    /// <summary>The transient faults <see cref="RunAsync{T}"/> translates, for reads that stream.</summary>
    private static async Task<T> Guard<T>(Func<Task<T>> read, CancellationToken ct)
    {
        try
        {
            return await read();
        }
        catch (Exception e) when (PostgresFaults.IsTransient(e, ct))
        {
            throw PostgresFaults.Unavailable(e);
        }
    }
}
