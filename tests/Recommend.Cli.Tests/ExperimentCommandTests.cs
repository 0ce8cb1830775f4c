using System.Text.Json;

namespace Recommend.Cli.Tests;

/// <summary><c>recommend experiments …</c> as a growth analyst runs them, against a real host on loopback.</summary>
public sealed class ExperimentCommandTests : IAsyncLifetime
{
    private LoopbackHost _host = null!;

    public async Task InitializeAsync() => _host = await LoopbackHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private Task<CliProcess.Result> RunAsync(params string[] arguments) => CliProcess.RunAsync("", [.. arguments, "--server", _host.Server]);

    [Fact]
    public async Task An_experiment_is_created_from_yaml_started_reported_as_a_table_and_stopped()
    {
        var file = Path.Combine(_host.DataDirectory, "home-diversity.yaml");
        await File.WriteAllTextAsync(file, """
            experiment_id: home-diversity
            name: "Home: more diverse"
            placements: [home]
            mode: ab
            attribution_window: 43200s
            variants:
              - name: A
                weight: 1
                control: true
              - name: B
                weight: 1
                profile:
                  diversity_lambda: 0.5
                  candidate_sources: [similar, trending]
            """);

        var created = await RunAsync("experiments", "create", file);
        Assert.True(created.ExitCode == 0, created.Errors);
        Assert.Contains("home-diversity", string.Join('\n', created.Lines));

        var started = await RunAsync("experiments", "start", "home-diversity");
        Assert.Contains("running", string.Join('\n', started.Lines));
        var shown = await RunAsync("experiments", "show", "home-diversity");
        using var json = JsonDocument.Parse(string.Join('\n', shown.Lines));
        Assert.Equal("43200s", json.RootElement.GetProperty("attributionWindow").GetString());
        Assert.Equal(0.5, json.RootElement.GetProperty("variants")[1].GetProperty("profile").GetProperty("diversityLambda").GetDouble());
        Assert.Equal(["similar", "trending"], json.RootElement.GetProperty("variants")[1].GetProperty("profile").GetProperty("candidateSources")
            .EnumerateArray().Select(s => s.GetString()));

        var list = string.Join('\n', (await RunAsync("experiments", "list")).Lines);
        Assert.Contains("home-diversity", list);
        var report = await RunAsync("experiments", "report", "home-diversity");
        Assert.True(report.ExitCode == 0, report.Errors);
        var table = string.Join('\n', report.Lines);
        Assert.Contains("SRM check passed", table);
        Assert.Contains("conversion_rate", table);
        Assert.Contains("Always-valid", table);
        using var reportJson = JsonDocument.Parse(string.Join('\n', (await RunAsync("experiments", "report", "home-diversity", "--json")).Lines));
        Assert.Equal(2, reportJson.RootElement.GetProperty("variants").GetArrayLength());

        Assert.Contains("stopped", string.Join('\n', (await RunAsync("experiments", "stop", "home-diversity")).Lines));
    }

    [Fact]
    public async Task A_refused_experiment_fails_the_command_with_the_servers_reason()
    {
        var file = Path.Combine(_host.DataDirectory, "broken.json");
        await File.WriteAllTextAsync(file, """{"experiment": {"name": "broken", "placements": ["home"], "variants": [{"name": "A", "control": true, "weight": 1}]}}""");

        var result = await RunAsync("experiments", "create", file);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("experiment.variants", result.Errors + string.Join('\n', result.Lines));
    }
}

/// <summary>The CLI against a host that requires API keys: the key comes from RECOMMEND_API_KEY.</summary>
public sealed class ApiKeyCommandTests : IAsyncLifetime
{
    private const string ReportsKey = "cli-test-reports-key-0123456789";
    private LoopbackHost _host = null!;

    public async Task InitializeAsync() => _host = await LoopbackHost.StartAsync(
        "--Recommend:Auth:ApiKeys:0:Name=growth", $"--Recommend:Auth:ApiKeys:0:Key={ReportsKey}", "--Recommend:Auth:ApiKeys:0:Scopes:0=reports");

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Commands_send_the_key_from_the_environment_and_explain_a_refusal()
    {
        var without = await CliProcess.RunAsync("", "experiments", "list", "--server", _host.Server);
        Assert.Equal(2, without.ExitCode);
        Assert.Contains("Unauthenticated", without.Errors);
        Assert.Contains("RECOMMEND_API_KEY", without.Errors);

        var keyed = new Dictionary<string, string> { ["RECOMMEND_API_KEY"] = ReportsKey };
        var listed = await CliProcess.RunAsync(keyed, "", "experiments", "list", "--server", _host.Server);
        Assert.True(listed.ExitCode == 0, listed.Errors);

        var denied = await CliProcess.RunAsync(keyed, "", "experiments", "stop", "any", "--server", _host.Server);
        Assert.Equal(2, denied.ExitCode);
        Assert.Contains("'experiments' scope", denied.Errors);
    }
}
