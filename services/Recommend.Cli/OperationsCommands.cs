using System.CommandLine;
using Grpc.Health.V1;
using Recommend.Contracts.V1;
using Spectre.Console;

namespace Recommend.Cli;

/// <summary>Commands an operator uses: health (also the container health check), status, product lookup.</summary>
internal static class OperationsCommands
{
    public static IEnumerable<Command> Create()
    {
        var server = ServerConnection.ServerOption();

        var health = new Command("health", "Exit 0 when the server reports SERVING on grpc.health.v1") { server };
        health.SetAction(async (r, ct) =>
        {
            using var channel = ServerConnection.Open(r.GetValue(server)!);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(TimeSpan.FromSeconds(5));
            var reply = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), cancellationToken: deadline.Token);
            Console.WriteLine(reply.Status);
            return reply.Status == HealthCheckResponse.Types.ServingStatus.Serving ? 0 : 1;
        });

        var status = new Command("status", "Embedder, model, index version and counts") { server };
        status.SetAction(async (r, ct) =>
        {
            using var channel = ServerConnection.Open(r.GetValue(server)!);
            var reply = await new Catalog.CatalogClient(channel).GetServiceStatusAsync(new GetServiceStatusRequest(), cancellationToken: ct);
            var grid = new Grid().AddColumns(2);
            grid.AddRow("embedder", Markup.Escape(reply.Embedder));
            grid.AddRow("model", Markup.Escape($"{reply.ModelId} (dim {reply.Dimension})"));
            grid.AddRow("vector index", Markup.Escape($"{reply.VectorIndex} · live {reply.IndexVersion} · {reply.IndexedProducts} vectors"));
            grid.AddRow("store", Markup.Escape($"{reply.Store} · {reply.CatalogProducts} products"));
            AnsiConsole.Write(grid);
            return 0;
        });

        var productId = new Argument<string>("product-id");
        var product = new Command("product", "Show one product") { productId, server };
        product.SetAction(async (r, ct) =>
        {
            using var channel = ServerConnection.Open(r.GetValue(server)!);
            var reply = await new Catalog.CatalogClient(channel).GetProductAsync(new GetProductRequest { ProductId = r.GetValue(productId) }, cancellationToken: ct);
            Console.WriteLine(Google.Protobuf.JsonFormatter.Default.Format(reply));
            return 0;
        });
        return [health, status, product];
    }
}
