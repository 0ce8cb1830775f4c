using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Recommend.Core.Catalog;
using Recommend.Core.History;
using Xunit;

namespace Recommend.Cli.Tests;

/// <summary>`recommend import` as a process against a real host: both layouts, gzip, idempotence, and resuming after a kill.</summary>
public sealed class ImportCommandTests : IAsyncLifetime
{
    private readonly string _files = Directory.CreateTempSubdirectory("recommend-import-").FullName;
    private LoopbackHost _host = null!;

    public async Task InitializeAsync() => _host = await LoopbackHost.StartAsync();

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_files, recursive: true);
    }

    private IHistoryStore History => _host.Services.GetRequiredService<IHistoryStore>();

    /// <summary>A shop export in the raw UCI layout: every kind of line a real one has.</summary>
    private const string UciExport = """
        "InvoiceNo","StockCode","Description","Quantity","InvoiceDate","UnitPrice","CustomerID","Country"
        536365,85123A,"WHITE HANGING HEART T-LIGHT HOLDER",6,2010-12-01 08:26:00,2.55,17850,United Kingdom
        536365,71053,"WHITE METAL LANTERN",6,2010-12-01 08:26:00,3.39,17850,United Kingdom
        536365,71053,"WHITE METAL LANTERN",2,2010-12-01 08:26:00,3.39,17850,United Kingdom
        536366,22633,"HAND WARMER UNION JACK",6,2010-12-01 08:28:00,1.85,17851,United Kingdom
        536366,85123A,"WHITE HANGING HEART T-LIGHT HOLDER",2,2010-12-01 08:28:00,2.95,17851,United Kingdom
        C536379,D,"Discount",-1,2010-12-01 09:41:00,27.5,14527,United Kingdom
        536380,22633,"HAND WARMER UNION JACK",-2,2010-12-01 09:45:00,1.85,17852,United Kingdom
        536381,POST,"POSTAGE",3,2010-12-01 09:45:00,18,12583,France
        536382,22633,"HAND WARMER UNION JACK",4,2010-12-01 09:50:00,1.85,,United Kingdom
        536383,22633,"?",4,2010-12-01 09:50:00,0,17853,United Kingdom
        A563185,B,"Adjust bad debt",1,2011-08-12 14:50:00,11062.06,,United Kingdom
        536384,22633,"HAND WARMER UNION JACK",lots,2010-12-01 09:51:00,1.85,17854,United Kingdom
        536385,21754,"HOME BUILDING BLOCK WORD",3,not a date,5.95,17855,United Kingdom
        536386,21754,"HOME BUILDING BLOCK WORD",3,2010-12-01 10:00:00,5.95,17855,United Kingdom
        536387,21754,"HOME BUILDING BLOCK WORD",3,2099-12-01 10:00:00,5.95,17855,United Kingdom
        """;

    [Fact]
    public async Task A_raw_UCI_export_imports_its_sales_counts_what_it_skips_names_rejected_lines_and_stores_nothing_twice()
    {
        var path = Gzip("transactions.csv.gz", UciExport);

        var first = await CliProcess.RunAsync("", "import", "history", path, "--server", _host.Server, "--progress", "json");

        Assert.True(first.ExitCode == 0, first.Errors);
        var output = string.Join('\n', first.Lines);
        // Two invoice lines of one product on one invoice are one basket membership: 5 stored, 1 already stored.
        Assert.Matches(@"events stored\s*│\s*5\b", output);
        Assert.Matches(@"already stored \(duplicates\)\s*│\s*1\b", output);
        foreach (var skipped in new[] { "cancellation", "return", "non-product code", "no customer", "zero price", "adjustment invoice" })
            Assert.Matches($@"skipped: {skipped}\s*│\s*1\b", output);
        Assert.Contains("rejected line 13: bad Quantity 'lots'", first.Errors);
        Assert.Contains("rejected line 14: bad InvoiceDate 'not a date'", first.Errors);
        // One row the server would refuse (and with it its whole batch) is rejected on its own.
        Assert.Contains("rejected line 16: occurred_at in the future", first.Errors);
        Assert.Equal(5, await History.CountPurchasesAsync(default));
        Assert.Equal(["71053", "85123A"], (await History.GetPurchasedProductIdsAsync("17850", default)).Order());
        Assert.False(File.Exists(path + ".import-checkpoint"));

        var again = await CliProcess.RunAsync("", "import", "history", path, "--server", _host.Server, "--progress", "json");

        Assert.Equal(0, again.ExitCode);
        var last = JsonDocument.Parse(again.Lines.First(l => l.StartsWith('{'))).RootElement;
        Assert.Equal(0, last.GetProperty("accepted").GetInt64());
        Assert.Equal(6, last.GetProperty("duplicates").GetInt64());
        Assert.Equal(5, await History.CountPurchasesAsync(default));
    }

    [Fact]
    public async Task Products_import_from_the_UCI_layout_and_from_generic_JSONL()
    {
        var uci = Gzip("transactions.csv.gz", UciExport);
        var jsonl = Path.Combine(_files, "catalog.jsonl");
        await File.WriteAllLinesAsync(jsonl, [
            """{"product_id":"mug-1","title":"Blue mug","category":"Kitchen","price":4.5,"in_stock":false}""",
            """{"product_id":"mug-2","title":"","price":3}""",
            """{"product_id":"mug-3","title":"Red mug","price":"cheap"}""",
            """{"product_id":"mug-4","title":"Green mug","price":2.25,"attributes":{"colour":"green"}}""",
        ]);

        var fromUci = await CliProcess.RunAsync("", "import", "products", uci, "--server", _host.Server, "--progress", "json");
        var fromJsonl = await CliProcess.RunAsync("", "import", "products", jsonl, "--server", _host.Server, "--progress", "json");

        Assert.True(fromUci.ExitCode == 0, fromUci.Errors);
        Assert.True(fromJsonl.ExitCode == 0, fromJsonl.Errors);
        // Progress counts derived products for UCI (its positions), lines for a generic file: both end at their total.
        foreach (var run in new[] { fromUci, fromJsonl })
        {
            var last = JsonDocument.Parse(run.Lines.Last(l => l.StartsWith('{'))).RootElement;
            Assert.Equal(last.GetProperty("total").GetInt64(), last.GetProperty("position").GetInt64());
        }
        var catalog = _host.Services.GetRequiredService<ICatalogStore>();
        var products = await catalog.GetProductsAsync(["85123A", "71053", "22633", "21754", "POST", "mug-1", "mug-2", "mug-3", "mug-4"], default);
        // Median of the kept unit prices 2.55 and 2.95; the fee code is no product.
        Assert.Equal(2.75, products["85123A"].Price, 6);
        Assert.Equal("HAND WARMER UNION JACK", products["22633"].Title);
        Assert.DoesNotContain("POST", products.Keys);
        Assert.False(products["mug-1"].InStock);
        Assert.Equal("green", products["mug-4"].Attributes["colour"]);
        Assert.DoesNotContain("mug-2", products.Keys);
        Assert.Contains("rejected line 2: empty title", fromJsonl.Errors);
        Assert.Contains("rejected line 3: bad price", fromJsonl.Errors);
    }

    [Fact]
    public async Task An_import_killed_mid_way_resumes_after_its_last_acknowledged_batch_and_stores_every_event_exactly_once()
    {
        const int Lines = 40_000;
        var path = Path.Combine(_files, "history.csv");
        var text = new StringBuilder("user_id,product_id,occurred_at,order_id,quantity,price\n");
        for (var i = 0; i < Lines; i++)
            text.Append($"u{i % 997},p{i * 7919 % 1_500},2024-0{1 + i % 9}-1{i % 10}T10:00:00Z,o{i / 4},{1 + i % 3},{1 + i % 20}.5\n");
        await File.WriteAllTextAsync(path, text.ToString());

        var killedAt = await KillAfterAcknowledgementsAsync(path, acknowledgements: 3);
        var checkpoint = JsonDocument.Parse(await File.ReadAllTextAsync(path + ".import-checkpoint")).RootElement;
        var resumeAfter = checkpoint.GetProperty("Position").GetInt64();
        Assert.InRange(resumeAfter, killedAt, Lines);
        Assert.True(await History.CountPurchasesAsync(default) >= checkpoint.GetProperty("Accepted").GetInt64());

        var resumed = await CliProcess.RunAsync("", "import", "history", path, "--server", _host.Server, "--progress", "json", "--batch", "1000");

        Assert.True(resumed.ExitCode == 0, resumed.Errors);
        Assert.Contains($"after position {resumeAfter}", resumed.Errors);
        Assert.Equal(Lines, await History.CountPurchasesAsync(default));
        // Every line is acknowledged once over the two runs: as stored, or as a duplicate where a batch committed
        // after the last checkpoint the killed run saved was sent again.
        var last = JsonDocument.Parse(resumed.Lines.Last(l => l.StartsWith('{'))).RootElement;
        Assert.Equal(Lines, last.GetProperty("accepted").GetInt64() + last.GetProperty("duplicates").GetInt64());
    }

    /// <summary>Starts an import and kills it (SIGKILL) once the server has acknowledged some batches; returns the last acknowledged position it printed.</summary>
    private async Task<long> KillAfterAcknowledgementsAsync(string path, int acknowledgements)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "Recommend.Cli.dll"), "import", "history", path,
                     "--server", _host.Server, "--progress", "json", "--batch", "1000", "--in-flight", "2" })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        _ = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var seen = 0;
        var position = 0L;
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (!line.StartsWith('{')) continue;
            position = JsonDocument.Parse(line).RootElement.GetProperty("position").GetInt64();
            if (++seen < acknowledgements) continue;
            process.Kill(entireProcessTree: true);
            break;
        }
        await process.WaitForExitAsync(timeout.Token);
        Assert.NotEqual(0, process.ExitCode);
        return position;
    }

    private string Gzip(string name, string content)
    {
        var path = Path.Combine(_files, name);
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(Encoding.UTF8.GetBytes(content.ReplaceLineEndings("\n") + "\n"));
        return path;
    }
}
