using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Recommend.Api.Tests;

/// <summary>
/// The growth dashboard in a real browser (Debian's Chromium, driven by Playwright) against a host loaded with simulated
/// experiments; the numbers on the page are checked against the report the JSON API (gRPC transcoding) returns.
/// </summary>
public sealed class DashboardTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string Chromium = Environment.GetEnvironmentVariable("RECOMMEND_TEST_CHROMIUM") ?? "/usr/bin/chromium";

    private RunningHost host = null!;
    private HttpClient http = null!;

    public async Task InitializeAsync()
    {
        host = await RunningHost.StartAsync(seedSample: false);
        http = new HttpClient { BaseAddress = new Uri(host.HttpAddress) };
    }

    public async Task DisposeAsync()
    {
        http.Dispose();
        await host.DisposeAsync();
    }

    [Fact]
    public async Task The_json_api_serves_the_experiments_contract_over_http_1_1_with_proto_json()
    {
        var created = await http.PostAsJsonAsync("/v1/experiments", new
        {
            experiment = new
            {
                experimentId = "json-1", name = "JSON test", placements = new[] { "home" }, mode = "ab",
                variants = new object[]
                {
                    new { name = "A", weight = 1, control = true },
                    new { name = "B", weight = 1, profile = new { diversityLambda = 0.5, candidateSources = new[] { "similar", "trending" } } },
                },
            },
        });
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.Equal("draft", (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());

        var started = await http.PostAsync("/v1/experiments/json-1:start", JsonContent.Create(new { }));
        Assert.Equal("running", (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        var list = await http.GetFromJsonAsync<JsonElement>("/v1/experiments");
        Assert.Equal("json-1", list.GetProperty("experiments")[0].GetProperty("experimentId").GetString());
        var one = await http.GetFromJsonAsync<JsonElement>("/v1/experiments/json-1");
        Assert.Equal(0.5, one.GetProperty("variants")[1].GetProperty("profile").GetProperty("diversityLambda").GetDouble());
        Assert.Equal("86400s", one.GetProperty("attributionWindow").GetString());
        var report = await http.GetFromJsonAsync<JsonElement>("/v1/experiments/json-1/report?from=2020-01-01T00:00:00Z");
        Assert.Equal("2020-01-01T00:00:00Z", report.GetProperty("from").GetString());
        Assert.Equal(2, report.GetProperty("variants").GetArrayLength());
        var stopped = await http.PostAsync("/v1/experiments/json-1:stop", JsonContent.Create(new { }));
        Assert.Equal("stopped", (await stopped.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());

        var bad = await http.PostAsJsonAsync("/v1/experiments", new { experiment = new { name = "", placements = new[] { "home" } } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.StartsWith("experiment.name:", (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/v1/experiments/missing")).StatusCode);
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("# TYPE", metrics);
    }

    [Fact]
    public async Task The_dashboard_shows_the_reports_numbers_the_srm_banner_and_runs_the_experiment_lifecycle()
    {
        var shop = new ExperimentSimulation(host);
        await shop.SeedCatalogAsync();
        var ab = await shop.StartAsync(ExperimentSimulation.Design("dash-ab", "pdp"));
        var served = await shop.RunUsersAsync("dash", 0, 400, "pdp", v => v == "B" ? 0.1 : 0.05, buyAfterClick: 0.5);
        await shop.ReportAsync(ab.ExperimentId, served);
        await shop.SeedHistoryAsync("dsrm", Enumerable.Range(0, 300).Where(i => i % 10 < 5));
        var skewed = await shop.StartAsync(ExperimentSimulation.Design("dash-srm", "cart", profileB: new Contracts.V1.RankingProfile { CandidateSources = { "similar" } }));
        var servedSkewed = await shop.RunUsersAsync("dsrm", 0, 300, "cart", _ => 0.05, buyAfterClick: 0.2, personalised: true);
        await shop.ReportAsync(skewed.ExperimentId, servedSkewed);
        // Live counters for Grafana: per experiment and variant (never user or product ids).
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Matches("""recommend_experiment_exposures_total\{[^}]*experiment="dash-ab"[^}]*variant="B"[^}]*\} [1-9]""", metrics);
        Assert.Matches("""recommend_experiment_attributed_events_total\{[^}]*experiment="dash-ab"[^}]*type="click"[^}]*variant="B"[^}]*\} [1-9]""", metrics);
        Assert.DoesNotMatch("""recommend_experiment_[a-z_]+\{[^}]*(user|product)""", metrics);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium, Headless = true });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });

        await page.GotoAsync($"{host.HttpAddress}/dashboard/#/experiments/dash-ab");
        await page.WaitForSelectorAsync("body[data-report-ready='dash-ab']");
        var report = await http.GetFromJsonAsync<JsonElement>("/v1/experiments/dash-ab/report");
        foreach (var variant in report.GetProperty("variants").EnumerateArray())
        {
            var name = variant.GetProperty("name").GetString()!;
            var row = page.Locator($"table#metrics tr[data-variant='{name}']");
            foreach (var (field, json) in new[] { ("users_exposed", "usersExposed"), ("exposures", "exposures"), ("clicks", "clicks"), ("purchases", "purchases") })
                Assert.Equal(Count(variant, json), long.Parse((await row.Locator($"td[data-field='{field}']").GetAttributeAsync("data-value"))!));
            Assert.Equal(variant.GetProperty("revenue").GetDouble(), Value(await row.Locator("td[data-field='revenue']").GetAttributeAsync("data-value")), 9);
            foreach (var metric in variant.GetProperty("metrics").EnumerateArray())
            {
                var key = metric.GetProperty("metric").GetString()!;
                Assert.Equal(metric.GetProperty("estimate").GetProperty("value").GetDouble(),
                    Value(await row.Locator($"td[data-metric='{key}']").GetAttributeAsync("data-value")), 9);
                if (metric.TryGetProperty("lift", out var lift))
                    Assert.Equal(lift.GetProperty("relative").GetProperty("value").GetDouble(), Value(await row.Locator($"td[data-lift='{key}']").GetAttributeAsync("data-value")), 9);
            }
        }
        Assert.True(await page.Locator("#srm-banner").IsHiddenAsync());
        Assert.True(await page.Locator("svg#daily-exposures path, svg#daily-exposures polyline").CountAsync() > 0);
        Assert.True(await page.Locator("svg#lift-bars rect, svg#lift-bars line").CountAsync() > 0);
        var screenshot = Path.Combine(AppContext.BaseDirectory, "artifacts", "dashboard-ab.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        output.WriteLine($"screenshot: {screenshot}");

        await page.GotoAsync($"{host.HttpAddress}/dashboard/#/experiments/dash-srm");
        await page.WaitForSelectorAsync("body[data-report-ready='dash-srm']");
        Assert.True(await page.Locator("#srm-banner").IsVisibleAsync());
        Assert.Contains("mismatch", (await page.Locator("#srm-banner").InnerTextAsync()).ToLowerInvariant());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Path.GetDirectoryName(screenshot)!, "dashboard-srm.png"), FullPage = true });

        await page.GotoAsync($"{host.HttpAddress}/dashboard/#/new");
        await page.FillAsync("#exp-name", "Made in the browser");
        await page.FillAsync("#exp-id", "from-the-page");
        await page.FillAsync("#exp-placements", "browser-slot");
        await page.ClickAsync("#create-submit");
        await page.WaitForSelectorAsync("body[data-report-ready='from-the-page']");
        Assert.Equal("draft", (await page.Locator("#experiment-status").InnerTextAsync()).Trim().ToLowerInvariant());
        await page.ClickAsync("#start-experiment");
        await Assertions.Expect(page.Locator("#experiment-status")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("running", System.Text.RegularExpressions.RegexOptions.IgnoreCase));
        await page.ClickAsync("#stop-experiment");
        await Assertions.Expect(page.Locator("#experiment-status")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("stopped", System.Text.RegularExpressions.RegexOptions.IgnoreCase));
        Assert.Equal("stopped", (await http.GetFromJsonAsync<JsonElement>("/v1/experiments/from-the-page")).GetProperty("status").GetString());
        Assert.Equal(1, await page.Locator("li[data-experiment-id='from-the-page']").CountAsync());
    }

    /// <summary>An int64 as the JSON API writes it: a number (the transcoder's default) or, in canonical proto JSON, a string.</summary>
    private static long Count(JsonElement message, string field) =>
        !message.TryGetProperty(field, out var value) ? 0 : value.ValueKind == JsonValueKind.String ? long.Parse(value.GetString()!) : value.GetInt64();

    private static double Value(string? attribute) => double.Parse(attribute!, System.Globalization.CultureInfo.InvariantCulture);
}
