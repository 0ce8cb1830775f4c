using Microsoft.Extensions.DependencyInjection;
using Recommend.Contracts.V1;
using Recommend.Core.Catalog;
using Recommend.Core.Vectors;
using Recommend.Indexing;

namespace Recommend.Api.Tests;

/// <summary>The store and the live index hold the same products: under racing writes, and after a crash between the two.</summary>
public sealed class DriftTests
{
    private static async Task<(HashSet<string> Stored, HashSet<string> Indexed)> BothSidesAsync(RunningHost host, IReadOnlyCollection<string> ids)
    {
        var stored = (await host.Services.GetRequiredService<ICatalogStore>().GetProductsAsync(ids, CancellationToken.None)).Keys.ToHashSet();
        var indexed = (await host.Services.GetRequiredService<IVectorIndex>().GetVectorsAsync(ids, CancellationToken.None)).Keys.ToHashSet();
        return (stored, indexed);
    }

    [Fact]
    public async Task Racing_upserts_and_deletes_of_the_same_ids_leave_store_and_index_in_agreement()
    {
        await using var host = await RunningHost.StartAsync(seedSample: false);
        var ids = Enumerable.Range(0, 24).Select(i => $"race-{i}").ToList();
        var random = new Random(7);
        var plans = Enumerable.Range(0, 8).Select(_ => Enumerable.Range(0, 25).Select(_ => (Delete: random.Next(2) == 0, Ids: ids.OrderBy(_ => random.Next()).Take(random.Next(1, 12)).ToList())).ToList()).ToList();

        await Task.WhenAll(plans.Select(plan => Task.Run(async () =>
        {
            foreach (var (delete, batch) in plan)
            {
                if (delete) await host.Catalog.DeleteProductsAsync(new DeleteProductsRequest { ProductIds = { batch } });
                else await host.UpsertProductsAsync(batch.Select(id => RunningHost.Product(id, $"MUG {id}")).ToArray());
            }
        })));

        var (stored, indexed) = await BothSidesAsync(host, ids);
        Assert.Equal(stored.Order(), indexed.Order());
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
