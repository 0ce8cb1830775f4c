using System.Runtime.CompilerServices;
using System.Text.Json;
using Dapper;
using Recommend.Core.Catalog;

namespace Recommend.Sqlite;

public sealed partial class SqliteStore
{
    /// <summary>Rows per page of <see cref="ScanProductsAsync"/>: bounds memory and how long one read holds a snapshot.</summary>
    private const int ScanPageSize = 500;

    private const string ProductColumns =
        "id AS Id, title AS Title, description AS Description, category AS Category, price AS Price, " +
        "in_stock AS InStock, attributes AS Attributes";

    public Task UpsertProductsAsync(IReadOnlyList<Product> products, CancellationToken ct)
    {
        if (products.Count == 0) return Task.CompletedTask;
        var updatedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        // Rows in batch order, so a product listed twice ends as its last version.
        var rows = products.Select(p => new
        {
            p.Id, p.Title, p.Description, p.Category, p.Price,
            InStock = p.InStock ? 1 : 0,
            Attributes = JsonSerializer.Serialize(p.Attributes),
            UpdatedAt = updatedAt,
        });
        return WriteAsync(transaction => _writer.Execute(
            """
            INSERT INTO products (id, title, description, category, price, in_stock, attributes, updated_at)
            VALUES (@Id, @Title, @Description, @Category, @Price, @InStock, @Attributes, @UpdatedAt)
            ON CONFLICT (id) DO UPDATE SET
                title = excluded.title, description = excluded.description, category = excluded.category,
                price = excluded.price, in_stock = excluded.in_stock, attributes = excluded.attributes,
                updated_at = excluded.updated_at
            """,
            rows, transaction), ct);
    }

    public Task<int> DeleteProductsAsync(IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        if (productIds.Count == 0) return Task.FromResult(0);
        return WriteAsync(transaction => _writer.Execute(
            "DELETE FROM products WHERE id IN (SELECT value FROM json_each(@ids))",
            new { ids = IdList(productIds) }, transaction), ct);
    }

    public async Task<IReadOnlyDictionary<string, Product>> GetProductsAsync(IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        if (productIds.Count == 0) return new Dictionary<string, Product>();
        return await ReadAsync(async connection =>
        {
            var rows = await connection.QueryAsync<ProductRow>(new CommandDefinition(
                $"SELECT {ProductColumns} FROM products WHERE id IN (SELECT value FROM json_each(@ids))",
                new { ids = IdList(productIds) }, cancellationToken: ct));
            return rows.Select(ToProduct).ToDictionary(p => p.Id, StringComparer.Ordinal);
        }, ct);
    }

    public Task PingAsync(CancellationToken ct) =>
        ReadAsync(connection => connection.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT EXISTS (SELECT 1 FROM products)", cancellationToken: ct)), ct);

    public async Task<long> CountProductsAsync(CancellationToken ct)
    {
        return await ReadAsync(connection => connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT count(*) FROM products", cancellationToken: ct)), ct);
    }

    public async IAsyncEnumerable<Product> ScanProductsAsync([EnumeratorCancellation] CancellationToken ct)
    {
        // Keyset paging with a fresh connection per page: no snapshot is held open while the caller works
        // (re-indexing embeds between pages), so the WAL can be checkpointed meanwhile.
        // '' sorts before every id, so one predicate seeks in the primary key on every page: "@after IS NULL OR id >
        // @after" made SQLite walk the table from its start each time (quadratic in the catalog's size).
        var after = "";
        while (true)
        {
            var page = await ReadAsync(async connection => (await connection.QueryAsync<ProductRow>(new CommandDefinition(
                $"SELECT {ProductColumns} FROM products WHERE id > @after ORDER BY id LIMIT @limit",
                new { after, limit = ScanPageSize }, cancellationToken: ct))).AsList(), ct);
            foreach (var row in page) yield return ToProduct(row);
            if (page.Count < ScanPageSize) yield break;
            after = page[^1].Id;
        }
    }

    /// <summary>
    /// Ids travel as one JSON array expanded by <c>json_each</c>: any number of ids in one statement, clear of
    /// SQLite's bound-parameter limit, and one cached statement instead of one per list length.
    /// </summary>
    private static string IdList(IReadOnlyCollection<string> ids) => JsonSerializer.Serialize(ids);

    private static Product ToProduct(ProductRow row) => new(
        row.Id, row.Title, row.Description, row.Category, row.Price, row.InStock,
        JsonSerializer.Deserialize<Dictionary<string, string>>(row.Attributes) ?? Product.NoAttributes);

    private sealed class ProductRow
    {
        public string Id { get; set; } = "";
        public string Title { get; set; } = "";
        public string Description { get; set; } = "";
        public string Category { get; set; } = "";
        public double Price { get; set; }
        public bool InStock { get; set; }
        public string Attributes { get; set; } = "";
    }
}
