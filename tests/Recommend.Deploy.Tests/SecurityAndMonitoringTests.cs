using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Recommend.Deploy.Tests;

/// <summary>API keys, NetworkPolicies, Prometheus scraping and the Grafana dashboard.</summary>
public partial class SecurityAndMonitoringTests
{
    private static DeployTree Tree => DeployTree.Instance.Value;

    private static Manifest ServiceDeployment =>
        Tree.OfKind("Deployment").Single(d => d.Containers.Any(c => Images.IsServiceImage(c.Str("image"))));

    private static Manifest Qdrant =>
        Tree.OfKind("StatefulSet").Single(s => s.Containers.Any(c => Images.Repository(c.Str("image")!) == "qdrant/qdrant"));

    // ---------------------------------------------------------------- API keys

    [Fact]
    public void Deployment_reads_hashed_api_keys_for_every_client_from_a_secret()
    {
        var container = ServiceDeployment.Containers.Single();
        var secrets = container.Seq("envFrom").Select(f => f.Str("secretRef", "name")).OfType<string>()
            .Select(name => Tree.Find("Secret", name) ?? throw new Xunit.Sdk.XunitException($"Secret {name} does not exist"))
            .Where(s => ApiKeys.Env(s).Keys.Any(ApiKeys.IsApiKeyVariable))
            .ToList();
        var secret = Assert.Single(secrets);

        var entries = ApiKeys.Parse(ApiKeys.Env(secret));
        Assert.All(entries, e =>
        {
            // The cluster stores hashes only; a placeholder until someone issues the key.
            Assert.False(e.Fields.ContainsKey("Key"), $"{secret}: entry {e.Index} ({e.Name}) has a plaintext Key; store KeyHash");
            var hash = e.Fields.GetValueOrDefault("KeyHash");
            Assert.True(hash == "CHANGE_ME" || hash is not null && Sha256Hex().IsMatch(hash),
                $"{secret}: entry {e.Index} ({e.Name}): KeyHash must be 64 lowercase hex digits (or the CHANGE_ME placeholder)");
        });
        string ScopesOf(string name) => string.Join(",", entries.Single(e => e.Name == name).Scopes);
        Assert.Equal("storefront", ScopesOf("storefront"));
        Assert.Equal("catalog", ScopesOf("catalog-jobs"));
        Assert.Contains("experiments", entries.Single(e => e.Name == "growth").Scopes);
        Assert.Equal("admin", ScopesOf("admin"));

        // Keys are secrets: not in the ConfigMap, and the host itself is no CLI client.
        Assert.DoesNotContain(Tree.OfKind("ConfigMap").SelectMany(m => m.Root.StrMap("data").Keys), ApiKeys.IsApiKeyVariable);
        Assert.DoesNotContain(container.Seq("env"), e => ConfigKeys.ClientEnvNames.Contains(e.Str("name")!));
    }

    [Fact]
    public void Jobs_that_call_the_service_send_an_api_key_and_the_others_do_not()
    {
        var jobs = Tree.OfKind("Job").ToList();
        Assert.Contains(jobs, CallsTheService);
        Assert.All(jobs, job =>
        {
            var container = job.Containers.Single();
            var key = container.Seq("env").SingleOrDefault(e => e.Str("name") == "RECOMMEND_API_KEY");
            if (!CallsTheService(job))
            {
                Assert.True(key is null, $"{job}: works offline but carries an API key");
                return;
            }
            Assert.True(key is not null, $"{job}: calls --server without RECOMMEND_API_KEY");
            // From a Secret, never inline in the manifest (the reference itself is checked to resolve elsewhere).
            Assert.Null(key.Str("value"));
            Assert.NotNull(key.At("valueFrom", "secretKeyRef"));
        });
    }

    private static bool CallsTheService(Manifest job) => job.Containers.Any(c => c.Strings("args").Contains("--server"));

    // ---------------------------------------------------------------- NetworkPolicy

    [Fact]
    public void Network_policy_admits_only_the_grpc_and_http_ports_of_the_service_pods()
    {
        var deployment = ServiceDeployment;
        var policy = Assert.Single(PoliciesSelecting(deployment));
        Assert.Contains("Ingress", policy.Root.Strings("spec", "policyTypes"));

        var podPorts = deployment.ContainerPorts.ToList();
        var rules = policy.Root.Seq("spec", "ingress").ToList();
        Assert.NotEmpty(rules);
        var admitted = new HashSet<int>();
        Assert.All(rules, rule =>
        {
            // An empty `from` or `ports` admits every source or every port.
            Assert.NotEmpty(rule.Seq("from"));
            Assert.NotEmpty(rule.Seq("ports"));
            Assert.DoesNotContain(rule.Seq("from"), peer => peer.At("ipBlock") is not null);
            foreach (var port in rule.Seq("ports"))
            {
                var number = ResolvePort(port.Str("port"), podPorts);
                Assert.True(number is not null, $"{policy}: port {port.Str("port")} is not a container port of {deployment}");
                admitted.Add(number!.Value);
            }
        });
        var named = podPorts.Where(p => p.Str("name") is "grpc" or "http").Select(p => p.Int("containerPort")!.Value).Order().ToList();
        Assert.Equal(named, admitted.Order().ToList());

        // The storefront reaches gRPC through its namespace label; Prometheus reaches the http port.
        var grpc = podPorts.Single(p => p.Str("name") == "grpc").Int("containerPort")!.Value;
        var http = podPorts.Single(p => p.Str("name") == "http").Int("containerPort")!.Value;
        Assert.Contains(NamespaceLabelsAdmitted(policy, grpc, podPorts), l => l.GetValueOrDefault("recommend.io/client") == "storefront");
        Assert.Contains(NamespaceLabelsAdmitted(policy, http, podPorts), l => l.ContainsKey("kubernetes.io/metadata.name"));
    }

    [Fact]
    public void Network_policies_admit_the_jobs_that_call_the_service_and_everything_that_opens_qdrant()
    {
        var deployment = ServiceDeployment;
        var policy = Assert.Single(PoliciesSelecting(deployment));
        var grpc = deployment.ContainerPorts.Single(p => p.Str("name") == "grpc").Int("containerPort")!.Value;
        foreach (var job in Tree.OfKind("Job").Where(CallsTheService))
            Assert.True(Admits(policy, job, grpc, deployment.ContainerPorts), $"{policy} does not admit {job} on {grpc}");

        // Every workload configured with the Qdrant key talks to Qdrant's gRPC port; peers use p2p.
        var qdrant = Qdrant;
        var qdrantPolicy = Assert.Single(PoliciesSelecting(qdrant));
        var qdrantPorts = qdrant.ContainerPorts.ToList();
        var clients = Tree.Workloads.Where(w => w.Containers.Any(c => Images.IsServiceImage(c.Str("image"))
            && c.Seq("env").Any(e => e.Str("name") == ConfigKeys.ToEnvName("Recommend:VectorIndex:Qdrant:ApiKey")))).ToList();
        Assert.Contains(deployment, clients);
        Assert.All(clients, w => Assert.True(Admits(qdrantPolicy, w, KubernetesManifestTests.QdrantGrpcPort, qdrantPorts),
            $"{qdrantPolicy} does not admit {w} on {KubernetesManifestTests.QdrantGrpcPort}"));
        var p2p = qdrantPorts.Single(p => p.Str("name") == "p2p").Int("containerPort")!.Value;
        Assert.True(Admits(qdrantPolicy, qdrant, p2p, qdrantPorts), $"{qdrantPolicy}: Qdrant peers cannot reach each other on {p2p}");
    }

    private static IEnumerable<Manifest> PoliciesSelecting(Manifest workload) =>
        Tree.OfKind("NetworkPolicy").Where(p =>
            p.Root.At("spec", "podSelector", "matchExpressions") is null
            && Tree.Selected(p.Root.StrMap("spec", "podSelector", "matchLabels")).Contains(workload));

    private static int? ResolvePort(string? port, IEnumerable<YamlNode> containerPorts) =>
        int.TryParse(port, out var number)
            ? (containerPorts.Any(p => p.Int("containerPort") == number) ? (int?)number : null)
            : containerPorts.FirstOrDefault(p => p.Str("name") == port).Int("containerPort");

    private static IEnumerable<YamlNode> RulesFor(Manifest policy, int port, IEnumerable<YamlNode> containerPorts) =>
        policy.Root.Seq("spec", "ingress").Where(rule =>
            !rule.Seq("ports").Any() || rule.Seq("ports").Any(p => ResolvePort(p.Str("port"), containerPorts) == port));

    /// <summary>Whether a rule admits the workload's pods (same namespace: a podSelector peer without namespaceSelector) on a port.</summary>
    private static bool Admits(Manifest policy, Manifest client, int port, IEnumerable<YamlNode> containerPorts) =>
        RulesFor(policy, port, containerPorts).SelectMany(r => r.Seq("from")).Any(peer =>
            peer.At("namespaceSelector") is null && peer.At("podSelector") is { } selector
            && selector.At("matchExpressions") is null
            && Labels.Contain(client.PodLabels, selector.StrMap("matchLabels")));

    private static IEnumerable<Dictionary<string, string>> NamespaceLabelsAdmitted(Manifest policy, int port, IEnumerable<YamlNode> containerPorts) =>
        RulesFor(policy, port, containerPorts).SelectMany(r => r.Seq("from"))
            .Where(peer => peer.At("namespaceSelector") is not null && peer.At("podSelector") is null)
            .Select(peer => peer.StrMap("namespaceSelector", "matchLabels"));

    // ---------------------------------------------------------------- Prometheus

    [Fact]
    public void Service_monitor_scrapes_the_http_port_where_the_pod_annotations_point_and_stays_out_of_the_base()
    {
        var monitor = Assert.Single(Tree.OfKind("ServiceMonitor"));
        // It needs the Prometheus Operator's CRDs: `kubectl apply -k deploy/k8s` must not depend on them.
        Assert.StartsWith("monitoring" + Path.DirectorySeparatorChar, monitor.File);
        Assert.DoesNotContain(Yaml.LoadDocuments(Path.Combine(Tree.Root, "kustomization.yaml")).Single().Strings("resources"),
            r => r.Contains("monitoring", StringComparison.Ordinal));

        var selector = monitor.Root.StrMap("spec", "selector", "matchLabels");
        Assert.NotEmpty(selector);
        var services = Tree.OfKind("Service").Where(s => Labels.Contain(s.Root.StrMap("metadata", "labels"), selector)).ToList();
        var endpoint = Assert.Single(monitor.Root.Seq("spec", "endpoints"));
        var portName = endpoint.Str("port");
        Assert.Equal("http", portName);
        var scraped = services.Where(s => s.Root.Seq("spec", "ports").Any(p => p.Str("name") == portName)).ToList();
        var service = Assert.Single(scraped);
        Assert.Contains(ServiceDeployment, Tree.Selected(service.Root.StrMap("spec", "selector")));

        // The annotations (for annotation-driven Prometheus setups) name the same container port and path.
        var annotations = ServiceDeployment.Root.StrMap("spec", "template", "metadata", "annotations");
        var target = service.Root.Seq("spec", "ports").Single(p => p.Str("name") == portName).Str("targetPort");
        Assert.Equal(ResolvePort(target, ServiceDeployment.ContainerPorts)?.ToString(), annotations["prometheus.io/port"]);
        Assert.Equal(endpoint.Str("path"), annotations["prometheus.io/path"]);
        Assert.Equal("/metrics", endpoint.Str("path"));
    }

    // ---------------------------------------------------------------- Grafana

    /// <summary>The series the host's Prometheus exporter writes (histograms as _bucket/_count/_sum).</summary>
    internal static readonly IReadOnlySet<string> ExportedMetrics = new HashSet<string>(
    [
        "rpc_server_call_duration_seconds_bucket",
        "rpc_server_call_duration_seconds_count",
        "rpc_server_call_duration_seconds_sum",
        "recommend_ranking_degraded_total",
        "recommend_embedder_batches_total",
        "recommend_embedder_texts_total",
        "recommend_embedder_tokens_total",
        "recommend_embedder_batch_duration_seconds_bucket",
        "recommend_index_vectors",
        "recommend_catalog_products",
        "recommend_reindex_processed_total",
        "recommend_reindex_active_jobs",
        "recommend_copurchase_ingest_lag_seconds",
        "recommend_experiment_exposures_total",
        "recommend_experiment_exposures_dropped_total",
        "recommend_experiment_attributed_events_total",
        "recommend_experiment_exposure_queue_depth",
        "recommend_auth_rejected_total",
        "dotnet_process_memory_working_set_bytes",
        "dotnet_gc_collections_total",
        "http_server_request_duration_seconds_bucket",
    ], StringComparer.Ordinal);

    private static readonly string[] DashboardRows = ["Traffic", "Ranking", "Embedding & index", "Re-indexing", "Experiments", "Security", "Runtime"];

    private static readonly Lazy<JsonElement> Dashboard = new(() =>
        JsonDocument.Parse(File.ReadAllText(Repo.Path("deploy", "grafana", "recommend-dashboard.json"))).RootElement.Clone());

    private static IEnumerable<JsonElement> AllPanels(JsonElement parent) =>
        parent.TryGetProperty("panels", out var panels)
            ? panels.EnumerateArray().SelectMany(p => AllPanels(p).Prepend(p))
            : [];

    [Fact]
    public void Grafana_dashboard_is_importable_with_a_prometheus_datasource_input()
    {
        var dashboard = Dashboard.Value;
        var input = Assert.Single(dashboard.GetProperty("__inputs").EnumerateArray());
        Assert.Equal("DS_PROMETHEUS", input.GetProperty("name").GetString());
        Assert.Equal("datasource", input.GetProperty("type").GetString());
        Assert.Equal("prometheus", input.GetProperty("pluginId").GetString());
        // Grafana 10.0 writes schema version 38.
        Assert.True(dashboard.GetProperty("schemaVersion").GetInt32() >= 38);
        Assert.False(string.IsNullOrEmpty(dashboard.GetProperty("uid").GetString()));

        var panels = AllPanels(dashboard).ToList();
        Assert.Equal(DashboardRows, panels.Where(p => p.GetProperty("type").GetString() == "row").Select(p => p.GetProperty("title").GetString()));
        var ids = panels.Select(p => p.GetProperty("id").GetInt32()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(panels.Where(p => p.GetProperty("type").GetString() != "row"), panel =>
        {
            var title = panel.GetProperty("title").GetString();
            Assert.Equal("${DS_PROMETHEUS}", panel.GetProperty("datasource").GetProperty("uid").GetString());
            var targets = panel.GetProperty("targets").EnumerateArray().ToList();
            Assert.True(targets.Count > 0, $"panel {title}: no queries");
            Assert.All(targets, t => Assert.Equal("${DS_PROMETHEUS}", t.GetProperty("datasource").GetProperty("uid").GetString()));
            var grid = panel.GetProperty("gridPos");
            Assert.True(grid.GetProperty("x").GetInt32() + grid.GetProperty("w").GetInt32() <= 24, $"panel {title}: wider than the grid");
        });
    }

    [Fact]
    public void Grafana_queries_use_only_exported_metrics_and_cover_every_family()
    {
        var exprs = AllPanels(Dashboard.Value)
            .Where(p => p.TryGetProperty("targets", out _))
            .SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => (Panel: p.GetProperty("title").GetString(), Expr: t.GetProperty("expr").GetString()!)))
            .ToList();
        Assert.NotEmpty(exprs);
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (panel, expr) in exprs)
        {
            Assert.Equal(expr.Count(c => c == '('), expr.Count(c => c == ')'));
            Assert.Equal(expr.Count(c => c == '{'), expr.Count(c => c == '}'));
            var metrics = PromQl.MetricNames(expr).ToList();
            Assert.True(metrics.Count > 0, $"panel {panel}: no metric in {expr}");
            Assert.All(metrics, m => Assert.True(ExportedMetrics.Contains(m), $"panel {panel}: {m} is not an exported metric"));
            used.UnionWith(metrics);

            // rate() of a gauge is silently wrong; quantiles need the le label kept.
            foreach (Match m in RateArgument().Matches(expr))
                Assert.Matches("_(total|count|sum|bucket)$", m.Groups[1].Value);
            foreach (Match m in QuantileGrouping().Matches(expr))
                Assert.Contains("le", m.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries));
            Assert.Equal(expr.Split("histogram_quantile(").Length - 1, QuantileGrouping().Matches(expr).Count);
        }

        foreach (var variable in Dashboard.Value.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            var query = variable.GetProperty("query");
            var text = query.ValueKind == JsonValueKind.Object ? query.GetProperty("query").GetString()! : query.GetString()!;
            var metric = LabelValuesMetric().Match(text);
            Assert.True(metric.Success, $"variable {variable.GetProperty("name")}: {text}");
            Assert.Contains(metric.Groups[1].Value, ExportedMetrics);
        }

        // Every family (a histogram's _bucket/_count/_sum count once) has a panel.
        static string Family(string m) => HistogramSuffix().Replace(m, "");
        Assert.Empty(ExportedMetrics.Select(Family).Distinct().Except(used.Select(Family)));
    }

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Hex();

    [GeneratedRegex(@"\b(?:rate|irate|increase)\(\s*([a-zA-Z_:][\w:]*)")]
    private static partial Regex RateArgument();

    [GeneratedRegex(@"histogram_quantile\(\s*[0-9.]+\s*,\s*sum\s+by\s*\(([^)]*)\)")]
    private static partial Regex QuantileGrouping();

    [GeneratedRegex(@"^label_values\(\s*([a-zA-Z_:][\w:]*)")]
    private static partial Regex LabelValuesMetric();

    [GeneratedRegex("_(bucket|count|sum)$")]
    private static partial Regex HistogramSuffix();
}

/// <summary>Reads the API-key list (Recommend:Auth:ApiKeys:N:...) out of environment variables.</summary>
public static partial class ApiKeys
{
    public sealed record Entry(int Index, Dictionary<string, string> Fields, List<string> Scopes)
    {
        public string? Name => Fields.GetValueOrDefault("Name");
    }

    public static bool IsApiKeyVariable(string name) => name.StartsWith(ConfigKeys.ApiKeysEnvPrefix, StringComparison.Ordinal);

    /// <summary>A Secret's keys and values (stringData; data values stay base64, enough to see which keys exist).</summary>
    public static Dictionary<string, string> Env(Manifest secret) =>
        secret.Root.StrMap("data").Concat(secret.Root.StrMap("stringData")).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    /// <summary>The Key form of a KeyHash variable, so hashed and plaintext entries compare equal.</summary>
    public static string PlaintextForm(string name) =>
        IsApiKeyVariable(name) && name.EndsWith("__KeyHash", StringComparison.Ordinal) ? name[..^"Hash".Length] : name;

    /// <summary>Entries in index order; asserts the list is well formed (indexes 0..n-1, a name, one key form, known scopes).</summary>
    public static List<Entry> Parse(IReadOnlyDictionary<string, string> env)
    {
        var fields = new SortedDictionary<int, Dictionary<string, string>>();
        var scopes = new SortedDictionary<int, SortedDictionary<int, string>>();
        foreach (var (name, value) in env.Where(kv => IsApiKeyVariable(kv.Key)))
        {
            var m = Variable().Match(name);
            Assert.True(m.Success, $"{name} is not an API-key field");
            var index = int.Parse(m.Groups["i"].Value);
            if (m.Groups["scope"].Success)
            {
                if (!scopes.TryGetValue(index, out var list)) scopes[index] = list = new();
                list[int.Parse(m.Groups["scope"].Value)] = value;
            }
            else
            {
                if (!fields.TryGetValue(index, out var entry)) fields[index] = entry = new(StringComparer.Ordinal);
                entry[m.Groups["field"].Value] = value;
            }
        }

        // A gap in the indexes, or a scope without its entry, points at a typo.
        Assert.Equal(Enumerable.Range(0, fields.Count), fields.Keys);
        Assert.All(scopes.Keys, i => Assert.True(fields.ContainsKey(i), $"API key {i}: scopes but no entry"));
        var entries = fields.Select(kv => new Entry(kv.Key, kv.Value,
            scopes.TryGetValue(kv.Key, out var s) ? s.Values.ToList() : [])).ToList();
        Assert.All(entries, e =>
        {
            Assert.False(string.IsNullOrEmpty(e.Name), $"API key {e.Index}: no Name");
            Assert.True(e.Fields.ContainsKey("Key") ^ e.Fields.ContainsKey("KeyHash"), $"API key {e.Name}: exactly one of Key and KeyHash");
            Assert.NotEmpty(e.Scopes);
            Assert.Equal(Enumerable.Range(0, e.Scopes.Count), scopes[e.Index].Keys);
            Assert.All(e.Scopes, s => Assert.True(ConfigKeys.Scopes.Contains(s), $"API key {e.Name}: unknown scope {s}"));
        });
        Assert.Equal(entries.Count, entries.Select(e => e.Name).Distinct().Count());
        return entries;
    }

    [GeneratedRegex(@"^Recommend__Auth__ApiKeys__(?<i>0|[1-9][0-9]*)__(?:Scopes__(?<scope>0|[1-9][0-9]*)|(?<field>Name|KeyHash|Key|RequestsPerSecond))$")]
    private static partial Regex Variable();
}

/// <summary>Just enough PromQL reading to list the metric names an expression selects.</summary>
public static partial class PromQl
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan", "Inf", "NaN",
    };

    public static IEnumerable<string> MetricNames(string expr)
    {
        var s = StringLiteral().Replace(expr, "\"\"");
        s = Matchers().Replace(s, " ");
        s = Ranges().Replace(s, " ");
        s = LabelLists().Replace(s, " ");
        return Identifier().Matches(s).Select(m => m.Value).Where(id => !Keywords.Contains(id)).Distinct();
    }

    [GeneratedRegex(@"""(?:[^""\\]|\\.)*""")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Matchers();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex LabelLists();

    // Names not called as functions; atomic so "rate(" cannot shrink to "rat".
    [GeneratedRegex(@"(?<![\w:.$])(?>[a-zA-Z_:][\w:]*)(?!\s*\()")]
    private static partial Regex Identifier();
}
