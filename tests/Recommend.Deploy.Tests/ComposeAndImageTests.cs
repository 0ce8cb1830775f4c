using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Recommend.Deploy.Tests;

public partial class ComposeAndImageTests
{
    private static readonly Lazy<YamlNode> Compose = new(() => Yaml.LoadDocuments(Repo.Path("docker-compose.yml")).Single());
    private static readonly Lazy<string[]> Dockerfile = new(() => File.ReadAllLines(Repo.Path("deploy", "Dockerfile")));
    private static DeployTree Tree => DeployTree.Instance.Value;

    private static IEnumerable<KeyValuePair<string, YamlNode>> Services => Compose.Value.Entries("services");

    /// <summary>Compose services built from deploy/Dockerfile: the host and the one-shot CLI runs.</summary>
    private static List<KeyValuePair<string, YamlNode>> ServiceBuilds =>
        Services.Where(s => s.Value.Str("build", "dockerfile") == "deploy/Dockerfile").ToList();

    private static YamlNode HostService =>
        ServiceBuilds.Single(s => s.Value.At("entrypoint") is null && s.Value.At("command") is null).Value;

    /// <summary>Compose allows `environment` as a mapping or as a list of KEY=VALUE.</summary>
    private static Dictionary<string, string> Environment(YamlNode service) =>
        service.At("environment") is YamlSequenceNode list
            ? list.Children.OfType<YamlScalarNode>().Select(s => s.Value!.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "")
            : service.StrMap("environment");

    private static Dictionary<string, string> DockerfileEnv()
    {
        // Join continuation lines, then read KEY=VALUE pairs of every ENV instruction.
        var text = string.Join("\n", Dockerfile.Value).Replace("\\\n", " ", StringComparison.Ordinal);
        return text.Split('\n')
            .Where(l => l.TrimStart().StartsWith("ENV ", StringComparison.Ordinal))
            .SelectMany(l => l.Trim()[4..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1]);
    }

    private static IReadOnlyList<int> DockerfileExposedPorts() =>
        Assert.Single(Dockerfile.Value, l => l.StartsWith("EXPOSE ", StringComparison.Ordinal))["EXPOSE ".Length..]
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();

    [Fact]
    public void Compose_service_env_has_the_same_keys_as_the_kubernetes_config()
    {
        Assert.NotEmpty(ServiceBuilds);
        var configMap = Tree.Find("ConfigMap", "recommend-config")!.Root.StrMap("data").Keys;
        var host = Tree.ServiceContainers().Where(x => x.Owner.Kind == "Deployment").Select(x => x.Container).ToList();
        var secretKeys = host
            .SelectMany(c => c.Seq("env"))
            .Where(e => e.At("valueFrom", "secretKeyRef") is not null)
            .Select(e => e.Str("name")!);
        // Every key of a Secret read through envFrom (the API keys) is a variable too.
        var secretFromKeys = host
            .SelectMany(c => c.Seq("envFrom"))
            .Select(f => Tree.Find("Secret", f.Str("secretRef", "name")))
            .OfType<Manifest>()
            .SelectMany(m => m.Root.StrMap("stringData").Keys.Concat(m.Root.StrMap("data").Keys));
        var expected = configMap.Concat(secretKeys).Concat(secretFromKeys).Select(ApiKeys.PlaintextForm).Order(StringComparer.Ordinal).ToList();

        Assert.All(ServiceBuilds, s =>
        {
            var keys = Environment(s.Value).Keys.ToList();
            Assert.All(keys, k => Assert.True(ConfigKeys.IsEnvName(k), $"compose {s.Key}: {k} is not a configuration key"));
            // The local stack may give an API key in plaintext (Key) where the cluster stores its hash (KeyHash).
            Assert.Equal(expected, keys.Select(ApiKeys.PlaintextForm).Order(StringComparer.Ordinal));
        });
    }

    [Fact]
    public void Compose_api_keys_name_the_cluster_principals_in_plaintext_that_the_environment_can_override()
    {
        var container = Tree.OfKind("Deployment").SelectMany(d => d.Containers).Single(c => Images.IsServiceImage(c.Str("image")));
        var cluster = container.Seq("envFrom").Select(f => Tree.Find("Secret", f.Str("secretRef", "name"))).OfType<Manifest>()
            .SelectMany(m => ApiKeys.Env(m)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var expected = ApiKeys.Parse(cluster).Select(e => (e.Name, string.Join(",", e.Scopes))).ToList();
        Assert.NotEmpty(expected);

        var local = ApiKeys.Parse(Environment(HostService));
        Assert.Equal(expected, local.Select(e => (e.Name, string.Join(",", e.Scopes))));
        // Development defaults, replaced by setting the variable (environment or .env): ${NAME:-default}.
        Assert.All(local, e => Assert.Matches(@"^\$\{[A-Z][A-Z0-9_]*:-[^}]+\}$", e.Fields.GetValueOrDefault("Key") ?? ""));
        Assert.Equal(local.Count, local.Select(e => e.Fields["Key"]).Distinct().Count());
    }

    [Fact]
    public void Dockerfile_env_uses_only_known_configuration_keys()
    {
        var env = DockerfileEnv();
        Assert.NotEmpty(env);
        Assert.All(env.Keys, k => Assert.True(ConfigKeys.IsEnvName(k), $"Dockerfile ENV {k} is not a configuration key"));
    }

    [Fact]
    public void Listen_ports_agree_across_dockerfile_compose_and_kubernetes()
    {
        // The gRPC (h2c) port and the HTTP/1.1 port (JSON API, dashboard, metrics), in that order.
        var exposed = DockerfileExposedPorts();
        var configMap = Tree.Find("ConfigMap", "recommend-config")!.Root.StrMap("data");
        foreach (var (key, port) in new[] { (ConfigKeys.Listen, exposed[0]), (ConfigKeys.HttpListen, exposed[1]) })
        {
            Assert.Equal(port, new Uri(DockerfileEnv()[key]).Port);
            Assert.Equal(port, new Uri(Environment(HostService)[key]).Port);
            Assert.Equal(port, new Uri(configMap[key]).Port);
        }

        // "host:container" or "ip:host:container": the last part is the container's port.
        var published = HostService.Strings("ports").Select(p => int.Parse(p.Split(':')[^1])).ToList();
        Assert.All(exposed, port => Assert.Contains(port, published));

        var containerPorts = Tree.ServiceContainers().SelectMany(x => x.Container.Seq("ports")).ToList();
        Assert.All(containerPorts.Where(p => p.Str("name") == "grpc"), p => Assert.Equal(exposed[0], p.Int("containerPort")));
        Assert.All(containerPorts.Where(p => p.Str("name") == "http"), p => Assert.Equal(exposed[1], p.Int("containerPort")));
        Assert.All(containerPorts, p => Assert.Contains(p.Str("name"), new[] { "grpc", "http" }));
    }

    [Fact]
    public void Compose_points_the_service_at_its_own_qdrant_and_postgres()
    {
        var env = Environment(HostService);
        var qdrantUrl = new Uri(env[ConfigKeys.QdrantUrl]);
        var qdrant = Services.Single(s => s.Key == qdrantUrl.Host).Value;
        Assert.Equal("qdrant/qdrant", Images.Repository(qdrant.Str("image")!));
        Assert.Equal(KubernetesManifestTests.QdrantGrpcPort, qdrantUrl.Port);

        var postgresHost = Regex.Match(env[ConfigKeys.ToEnvName("ConnectionStrings:Postgres")], "Host=([^;]+)").Groups[1].Value;
        Assert.Equal("postgres", Images.Repository(Services.Single(s => s.Key == postgresHost).Value.Str("image")!));
    }

    [Fact]
    public void Compose_long_running_services_have_health_checks_and_dependencies_wait_for_them()
    {
        var services = Services.ToDictionary(s => s.Key, s => s.Value);
        Assert.True(services.Count >= 3);
        foreach (var (name, service) in services)
        {
            var oneShot = service.Str("restart") == "no";
            Assert.True(oneShot || service.At("healthcheck", "test") is not null, $"compose {name}: no healthcheck");
            foreach (var (dependency, spec) in service.Entries("depends_on"))
            {
                Assert.True(services.ContainsKey(dependency), $"compose {name}: unknown dependency {dependency}");
                var condition = spec.Str("condition");
                Assert.Contains(condition, new[] { "service_healthy", "service_completed_successfully" });
                if (condition == "service_healthy")
                    Assert.NotNull(services[dependency].At("healthcheck", "test"));
            }
        }
        Assert.Contains("health", HostService.Strings("healthcheck", "test"));

        var declared = Compose.Value.Entries("volumes").Select(v => v.Key).ToHashSet();
        var named = services.Values.SelectMany(s => s.Strings("volumes")).Select(v => v.Split(':')[0])
            .Where(source => !source.StartsWith('.') && !source.StartsWith('/') && !source.StartsWith('$'));
        Assert.All(named, v => Assert.Contains(v, declared));
    }

    [Fact]
    public void Images_are_pinned_and_shared_between_compose_and_kubernetes()
    {
        var composeImages = Services.Select(s => s.Value.Str("image")).OfType<string>().ToList();
        var fromImages = Dockerfile.Value.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).Select(l => l.Split(' ')[1]).ToList();
        Assert.All(composeImages.Concat(fromImages), i => Assert.True(Images.IsPinned(i), $"{i} is not pinned"));

        // Local and cluster stacks run the same third-party versions.
        var clusterImages = Tree.Workloads.SelectMany(w => w.Containers).Select(c => c.Str("image")!).ToList();
        foreach (var image in composeImages.Where(i => !Images.IsServiceImage(i)))
            Assert.All(clusterImages.Where(c => Images.Repository(c) == Images.Repository(image)), c => Assert.Equal(image, c));
        Assert.Contains(clusterImages, c => Images.Repository(c) == "qdrant/qdrant");
    }

    [Fact]
    public void Dockerfile_runs_the_host_as_a_non_root_user()
    {
        var lines = Dockerfile.Value;
        var user = Assert.Single(lines, l => l.StartsWith("USER ", StringComparison.Ordinal))["USER ".Length..].Trim();
        Assert.DoesNotContain(user, new[] { "root", "0", "0:0" });
        Assert.Contains(lines, l => l.StartsWith("ENTRYPOINT ", StringComparison.Ordinal) && l.Contains("Recommend.Api.dll"));
        // The restore layer is keyed by the central package files.
        Assert.Contains(lines, l => l.Contains("*.props", StringComparison.Ordinal));
        var ignore = File.ReadAllLines(Repo.Path(".dockerignore"));
        Assert.Contains("**/bin/", ignore);
        Assert.Contains("**/obj/", ignore);
    }
}
