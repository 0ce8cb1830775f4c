using Microsoft.Extensions.DependencyInjection;
using Recommend.Contracts.V1;
using Recommend.Core.Catalog;
using Recommend.Core.Vectors;
using Recommend.Indexing;

namespace Recommend.Api.Tests;

/// <summary>The store and the live index hold the same products: under racing writes, and after a crash between the two.</summary>
public sealed class DriftTests
{
    private static readonly string LongText = string.Join(' ', Enumerable.Range(0, 2_000).Select(i => $"w{i}"));

    private static async Task<(HashSet<string> Stored, HashSet<string> Indexed)> BothSidesAsync(RunningHost host, IReadOnlyCollection<string> ids)
    {
        var stored = (await host.Services.GetRequiredService<ICatalogStore>().GetProductsAsync(ids, CancellationToken.None)).Keys.ToHashSet();
        var indexed = (await host.Services.GetRequiredService<IVectorIndex>().GetVectorsAsync(ids, CancellationToken.None)).Keys.ToHashSet();
        return (stored, indexed);
    }

    private static Contracts.V1.Product LongProduct(string id)
    {
        var product = RunningHost.Product(id, $"MUG {id}");
        product.Description = LongText;
        return product;
    }

    [Fact]
    public async Task Racing_upserts_and_deletes_of_the_same_ids_leave_store_and_index_in_agreement()
    {
        await using var host = await RunningHost.StartAsync(seedSample: false);
        var ids = Enumerable.Range(0, 16).Select(i => $"race-{i}").ToList();
        var random = new Random(7);
        var disagreements = new List<string>();
        // Rounds of concurrent writes on overlapping ids; between rounds nothing is in flight, so both sides must agree.
        for (var round = 0; round < 30; round++)
        {
            var writes = Enumerable.Range(0, 10).Select(_ => (Delete: random.Next(2) == 0, Ids: ids.OrderBy(_ => random.Next()).Take(random.Next(4, 16)).ToList())).ToList();
            await Task.WhenAll(writes.Select(write => Task.Run(async () =>
            {
                if (write.Delete) await host.Catalog.DeleteProductsAsync(new DeleteProductsRequest { ProductIds = { write.Ids } });
                else await host.UpsertProductsAsync(write.Ids.Select(LongProduct).ToArray());
            })));
            var (stored, indexed) = await BothSidesAsync(host, ids);
            if (!stored.SetEquals(indexed))
                disagreements.Add($"round {round}: only stored {string.Join(",", stored.Except(indexed))}; only indexed {string.Join(",", indexed.Except(stored))}");
        }
        Assert.True(disagreements.Count == 0, string.Join('\n', disagreements));
    }

    [Fact]
    public async Task After_a_crash_between_store_and_index_writes_the_next_start_repairs_both_directions()
    {
        var data = Directory.CreateTempSubdirectory("recommend-drift-").FullName;
        try
        {
            var host = await RunningHost.StartAsync(seedSample: false, dataDirectory: data);
            await host.UpsertProductsAsync(RunningHost.Product("kept", "RED SPOTTY MUG"), RunningHost.Product("orphaned", "BLUE MUG"));
            // What a process killed between the two steps of a write leaves: a product stored but never indexed (an
            // upsert), and a vector whose product was already deleted from the store (a delete).
            var store = host.Services.GetRequiredService<ICatalogStore>();
            await store.UpsertProductsAsync([new Core.Catalog.Product("unindexed", "GREEN TEAPOT", "", "Teapots", 9, true, Core.Catalog.Product.NoAttributes)], CancellationToken.None);
            await store.DeleteProductsAsync(["orphaned"], CancellationToken.None);
            var before = await BothSidesAsync(host, ["kept", "unindexed", "orphaned"]);
            Assert.Equal(["kept", "orphaned"], before.Indexed.Order());
            await host.StopAsync();

            await using var restarted = await RunningHost.StartAsync(seedSample: false, data);
            var reconciler = restarted.Services.GetRequiredService<IndexReconciler>();
            var after = (Stored: new HashSet<string>(), Indexed: new HashSet<string>());
            for (var attempt = 0; attempt < 100; attempt++)
            {
                after = await BothSidesAsync(restarted, ["kept", "unindexed", "orphaned"]);
                if (after.Stored.SetEquals(after.Indexed)) break;
                await Task.Delay(100);
            }
            Assert.Equal(["kept", "unindexed"], after.Stored.Order());
            Assert.Equal(["kept", "unindexed"], after.Indexed.Order());
            var similar = await restarted.Recommendations.SimilarProductsAsync(new SimilarProductsRequest { ProductId = "kept" });
            Assert.Contains(similar.Items, i => i.ProductId == "unindexed");
            Assert.Equal(new ReconcileResult(2, 0, 0, false), await reconciler.RunAsync(CancellationToken.None));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
