using System.Runtime.CompilerServices;
using System.Text.Json;
using Dapper;
using Recommend.Core.Catalog;

namespace Recommend.Postgres;

public sealed partial class PostgresStore
{
    private const int ScanPageSize = 1_000;

    private const string ProductColumns =
        "id as Id, title as Title, description as Description, category as Category, price as Price, " +
        "in_stock as InStock, attributes::text as Attributes";

    public async Task UpsertProductsAsync(IReadOnlyList<Product> products, CancellationToken ct)
    {
        // ON CONFLICT cannot touch one row twice in a statement: the last version of an id wins, as in a loop.
        var latest = products.GroupBy(p => p.Id, StringComparer.Ordinal).Select(g => g.Last()).ToList();
        if (latest.Count == 0) return;

        await RunAsync(connection => connection.ExecuteAsync(new CommandDefinition(
            """
            insert into products (id, title, description, category, price, in_stock, attributes, updated_at)
            select id, title, description, category, price, in_stock, attributes::jsonb, now()
            from unnest(@Ids, @Titles, @Descriptions, @Categories, @Prices, @InStock, @Attributes)
                as p(id, title, description, category, price, in_stock, attributes)
            on conflict (id) do update set
                title = excluded.title, description = excluded.description, category = excluded.category,
                price = excluded.price, in_stock = excluded.in_stock, attributes = excluded.attributes,
                updated_at = excluded.updated_at
            """,
            new
            {
                Ids = latest.Select(p => p.Id).ToArray(),
                Titles = latest.Select(p => p.Title).ToArray(),
                Descriptions = latest.Select(p => p.Description).ToArray(),
                Categories = latest.Select(p => p.Category).ToArray(),
                Prices = latest.Select(p => p.Price).ToArray(),
                InStock = latest.Select(p => p.InStock).ToArray(),
                Attributes = latest.Select(p => JsonSerializer.Serialize(p.Attributes)).ToArray(),
            },
            cancellationToken: ct)), ct);
    }

    public async Task<int> DeleteProductsAsync(IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        if (productIds.Count == 0) return 0;
        return await RunAsync(connection => connection.ExecuteAsync(new CommandDefinition(
            "delete from products where id = any(@Ids)", new { Ids = productIds.ToArray() }, cancellationToken: ct)), ct);
    }

    public async Task<IReadOnlyDictionary<string, Product>> GetProductsAsync(IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        if (productIds.Count == 0) return new Dictionary<string, Product>();
        var rows = await RunAsync(connection => connection.QueryAsync<ProductRow>(new CommandDefinition(
            $"select {ProductColumns} from products where id = any(@Ids)",
            new { Ids = productIds.Distinct().ToArray() }, cancellationToken: ct)), ct);
        return rows.Select(r => r.ToProduct()).ToDictionary(p => p.Id, StringComparer.Ordinal);
    }

    public Task PingAsync(CancellationToken ct) =>
        RunAsync(connection => connection.ExecuteScalarAsync<bool>(new CommandDefinition("select exists (select 1 from products)", cancellationToken: ct)), ct);

    public Task<long> CountProductsAsync(CancellationToken ct) =>
        RunAsync(connection => connection.ExecuteScalarAsync<long>(new CommandDefinition("select count(*) from products", cancellationToken: ct)), ct);

    public async IAsyncEnumerable<Product> ScanProductsAsync([EnumeratorCancellation] CancellationToken ct)
    {
        // Keyset pages, each its own short query: no connection or snapshot is held while the caller embeds a page.
        // Each page goes through the adapter boundary on its own (a yield cannot sit in a try with a catch), so a
        // fault opening or reading any page surfaces as the store being unavailable.
        string? after = null;
        while (true)
        {
            var page = await ReadPageAsync(after, ct);

            foreach (var row in page)
                yield return row.ToProduct();

            if (page.Count < ScanPageSize) yield break;
            after = page[^1].Id;
        }
    }

    private Task<List<ProductRow>> ReadPageAsync(string? after, CancellationToken ct) =>
        RunAsync(async connection =>
        {
            var sql = after is null
                ? $"select {ProductColumns} from products order by id limit @Limit"
                : $"select {ProductColumns} from products where id > @After order by id limit @Limit";
            return (await connection.QueryAsync<ProductRow>(new CommandDefinition(
                sql, new { After = after, Limit = ScanPageSize }, cancellationToken: ct))).AsList();
        }, ct);

    private sealed class ProductRow
    {
        public string Id { get; init; } = "";
        public string Title { get; init; } = "";
        public string Description { get; init; } = "";
        public string Category { get; init; } = "";
        public double Price { get; init; }
        public bool InStock { get; init; }
        public string Attributes { get; init; } = "{}";

        public Product ToProduct() => new(Id, Title, Description, Category, Price, InStock,
            JsonSerializer.Deserialize<Dictionary<string, string>>(Attributes) ?? Product.NoAttributes);
    }
}
