using System.CommandLine;
using System.Diagnostics;
using Recommend.Import;

namespace Recommend.Cli;

/// <summary><c>recommend generate</c>: a synthetic shop (catalog and history) in the import formats, for benchmarks at any size.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var products = new Option<int>("--products") { Description = "Products in the catalog", DefaultValueFactory = _ => 10_000 };
        var events = new Option<long>("--events") { Description = "History events (views and purchases)", DefaultValueFactory = _ => 100_000 };
        var seed = new Option<int>("--seed") { Description = "The same seed writes the same files", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--output", "-o") { Description = "Directory for products.jsonl.gz and history.csv.gz", DefaultValueFactory = _ => "synthetic-shop" };
        var command = new Command("generate", "Write a synthetic shop for benchmarks: Zipf popularity, categories, prices, sessions and baskets, in the import formats")
        {
            products, events, seed, output,
        };
        command.SetAction(r =>
        {
            var clock = Stopwatch.StartNew();
            var shop = new SyntheticShop(r.GetValue(products), r.GetValue(events), r.GetValue(seed));
            var directory = r.GetValue(output)!;
            shop.Write(directory);
            Console.WriteLine($"{directory}: {shop.Products:N0} products in {shop.Categories:N0} categories, {shop.Events:N0} events of {shop.Customers:N0} customers ({clock.Elapsed.TotalSeconds:F1} s)");
            Console.WriteLine($"load: recommend import products {Path.Combine(directory, "products.jsonl.gz")} && recommend import history {Path.Combine(directory, "history.csv.gz")}");
            return 0;
        });
        return command;
    }
}
