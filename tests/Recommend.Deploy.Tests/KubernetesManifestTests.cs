using YamlDotNet.RepresentationModel;

namespace Recommend.Deploy.Tests;

public class KubernetesManifestTests
{
    private static DeployTree Tree => DeployTree.Instance.Value;

    // The adapter speaks gRPC; 6333 is Qdrant's REST port.
    internal const int QdrantGrpcPort = 6334;

    private static Manifest ServiceDeployment =>
        Tree.OfKind("Deployment").Single(d => d.Containers.Any(c => Images.IsServiceImage(c.Str("image"))));

    private static Dictionary<string, string> ServiceConfig =>
        Tree.Find("ConfigMap", "recommend-config")?.Root.StrMap("data") ?? throw new Xunit.Sdk.XunitException("ConfigMap recommend-config is missing");

    [Fact]
    public void Every_yaml_file_is_listed_by_a_kustomization_and_every_listed_path_exists()
    {
        Assert.NotEmpty(Tree.KustomizationFiles);
        var unlisted = Tree.YamlFiles
            .Except(Tree.KustomizationFiles)
            .Where(f => !Tree.ReferencedFiles.Contains(f))
            .Select(f => Path.GetRelativePath(Tree.Root, f));
        Assert.Empty(unlisted);
        Assert.Empty(Tree.DanglingReferences);
        // A directory named in `resources` must itself be a kustomization.
        Assert.All(Tree.ReferencedFiles.Where(f => Path.GetFileName(f) == "kustomization.yaml"), f => Assert.True(File.Exists(f), f));
    }

    [Fact]
    public void Every_manifest_and_patch_has_api_version_kind_and_name()
    {
        Assert.NotEmpty(Tree.Resources);
        Assert.All(Tree.Resources.Concat(Tree.Patches), m =>
        {
            Assert.False(string.IsNullOrWhiteSpace(m.ApiVersion), $"{m}: apiVersion");
            Assert.False(string.IsNullOrWhiteSpace(m.Kind), $"{m}: kind");
            Assert.False(string.IsNullOrWhiteSpace(m.Name), $"{m}: metadata.name");
        });
        var duplicates = Tree.Resources.GroupBy(m => (m.Kind, m.Name)).Where(g => g.Count() > 1).Select(g => g.Key);
        Assert.Empty(duplicates);
    }

    [Fact]
    public void Workload_selectors_match_their_pod_template_labels()
    {
        Assert.All(Tree.Workloads.Where(w => w.Kind is "Deployment" or "StatefulSet"), w =>
        {
            var selector = w.Root.StrMap("spec", "selector", "matchLabels");
            Assert.NotEmpty(selector);
            Assert.True(Labels.Contain(w.PodLabels, selector), $"{w}: selector {Show(selector)} not in template labels {Show(w.PodLabels)}");
        });
    }

    [Fact]
    public void Services_select_existing_pods_and_target_declared_container_ports()
    {
        Assert.All(Tree.OfKind("Service"), svc =>
        {
            var pods = Tree.Selected(svc.Root.StrMap("spec", "selector")).ToList();
            Assert.True(pods.Count > 0, $"{svc}: selector matches no workload");
            var declared = pods.SelectMany(p => p.ContainerPorts).ToList();
            foreach (var port in svc.Root.Seq("spec", "ports"))
            {
                var target = port.Str("targetPort") ?? port.Str("port");
                Assert.True(declared.Any(p => p.Str("name") == target || p.Str("containerPort") == target),
                    $"{svc}: targetPort {target} is not a container port of {string.Join(", ", pods)}");
            }
        });

        Assert.All(Tree.OfKind("StatefulSet"), sts =>
        {
            var governing = Tree.Find("Service", sts.Root.Str("spec", "serviceName"));
            Assert.True(governing is not null, $"{sts}: serviceName has no Service");
            Assert.Equal("None", governing!.Root.Str("spec", "clusterIP"));
            Assert.Contains(sts, Tree.Selected(governing.Root.StrMap("spec", "selector")));
        });
    }

    [Fact]
    public void Service_grpc_port_is_h2c_on_the_listen_port_and_the_http_port_serves_http()
    {
        var listenPort = new Uri(ServiceConfig[ConfigKeys.Listen]).Port;
        var container = ServiceDeployment.Containers.Single();
        var grpc = container.Seq("ports").Single(p => p.Str("name") == "grpc");
        Assert.Equal(listenPort, grpc.Int("containerPort"));

        var services = Tree.OfKind("Service").Where(s => Tree.Selected(s.Root.StrMap("spec", "selector")).Contains(ServiceDeployment)).ToList();
        Assert.NotEmpty(services);
        var ports = services.SelectMany(s => s.Root.Seq("spec", "ports")).ToList();
        Assert.All(ports.Where(p => p.Str("name") == "grpc"), p => Assert.Equal("kubernetes.io/h2c", p.Str("appProtocol")));
        // The second port speaks HTTP/1.1: the JSON API, the dashboard and /metrics.
        var httpPort = new Uri(ServiceConfig[ConfigKeys.HttpListen]).Port;
        Assert.All(ports.Where(p => p.Str("name") == "http"), p => Assert.Equal("http", p.Str("appProtocol")));
        Assert.Equal(httpPort, container.Seq("ports").Single(p => p.Str("name") == "http").Int("containerPort"));
        Assert.All(ports, p => Assert.Contains(p.Str("name"), new[] { "grpc", "http" }));
    }

    [Fact]
    public void Service_probes_are_grpc_health_checks_on_the_container_port()
    {
        var container = ServiceDeployment.Containers.Single();
        var grpcPort = container.Seq("ports").Single(p => p.Str("name") == "grpc").Int("containerPort");
        foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
        {
            var node = container.At(probe);
            Assert.True(node is not null, $"{probe} missing");
            Assert.True(node.At("grpc") is not null, $"{probe} is not a grpc probe");
            Assert.Equal(grpcPort, node.Int("grpc", "port"));
            // The host registers "" (readiness: store connected) and "liveness" (process up); liveness must not
            // follow the store, or a database outage would restart every pod.
            var expected = probe == "livenessProbe" ? "liveness" : "";
            Assert.Equal(expected, node.Str("grpc", "service") ?? "");
        }
    }

    [Fact]
    public void Service_deployment_is_replicated_hardened_and_spread()
    {
        var deployment = ServiceDeployment;
        Assert.True(deployment.Root.Int("spec", "replicas") >= 2, "at least 2 replicas");
        var pod = deployment.PodSpec;
        Assert.Equal("true", pod.Str("securityContext", "runAsNonRoot"));
        Assert.True(pod.Seq("topologySpreadConstraints").Any() || pod.At("affinity", "podAntiAffinity") is not null, "no spreading");

        var container = deployment.Containers.Single();
        Assert.Equal("true", container.Str("securityContext", "readOnlyRootFilesystem"));
        Assert.Equal("false", container.Str("securityContext", "allowPrivilegeEscalation"));
        foreach (var resource in new[] { "cpu", "memory" })
            Assert.NotNull(container.Str("resources", "requests", resource));
        Assert.NotNull(container.Str("resources", "limits", "memory"));

        // A read-only root needs a writable /tmp for the runtime.
        var tmp = container.Seq("volumeMounts").Single(m => m.Str("mountPath") == "/tmp").Str("name");
        Assert.NotNull(pod.Seq("volumes").Single(v => v.Str("name") == tmp).At("emptyDir"));
    }

    [Fact]
    public void Hpa_and_pdbs_target_existing_workloads()
    {
        var hpas = Tree.OfKind("HorizontalPodAutoscaler").ToList();
        Assert.NotEmpty(hpas);
        Assert.All(hpas, hpa =>
        {
            Assert.Equal("autoscaling/v2", hpa.ApiVersion);
            var target = Tree.Find(hpa.Root.Str("spec", "scaleTargetRef", "kind")!, hpa.Root.Str("spec", "scaleTargetRef", "name"));
            Assert.True(target is not null, $"{hpa}: scaleTargetRef does not exist");
            Assert.True(hpa.Root.Int("spec", "minReplicas") >= 2, $"{hpa}: minReplicas < 2");
            Assert.True(hpa.Root.Int("spec", "maxReplicas") > hpa.Root.Int("spec", "minReplicas"), $"{hpa}: maxReplicas");
            Assert.Contains(hpa.Root.Seq("spec", "metrics"), m => m.Str("resource", "name") == "cpu");
            // CPU utilisation is relative to requests; without them the HPA never scales.
            Assert.All(target!.Containers, c => Assert.NotNull(c.Str("resources", "requests", "cpu")));
        });

        var pdbs = Tree.OfKind("PodDisruptionBudget").ToList();
        Assert.Contains(pdbs, p => Tree.Selected(p.Root.StrMap("spec", "selector", "matchLabels")).Contains(ServiceDeployment));
        Assert.All(pdbs, pdb =>
        {
            var selected = Tree.Selected(pdb.Root.StrMap("spec", "selector", "matchLabels")).ToList();
            var workload = Assert.Single(selected);
            var replicas = workload.Root.Int("spec", "replicas") ?? 1;
            // A budget that allows no eviction blocks node drains forever.
            if (pdb.Root.Int("spec", "minAvailable") is { } min) Assert.True(min < replicas, $"{pdb}: minAvailable {min} >= replicas {replicas}");
            if (pdb.Root.Int("spec", "maxUnavailable") is { } max) Assert.True(max >= 1, $"{pdb}: maxUnavailable < 1");
        });
    }

    [Fact]
    public void Service_env_uses_only_known_configuration_keys()
    {
        var containers = Tree.ServiceContainers().ToList();
        Assert.NotEmpty(containers);
        var referencedMaps = new HashSet<(string Kind, string Name)>();
        foreach (var (owner, container) in containers)
        {
            foreach (var env in container.Seq("env"))
            {
                var name = env.Str("name")!;
                // Variables the sharded re-index Job feeds to its arguments (shard index, the Job's uid), not configuration.
                if (name is "JOB_COMPLETION_INDEX" or "JOB_UID") continue;
                // The CLI's own variables (its API key) belong to containers that call a server, never to the host.
                if (ConfigKeys.ClientEnvNames.Contains(name))
                {
                    var callsServer = container.Strings("args").Contains("--server");
                    Assert.True(callsServer, $"{owner}: {name} is for CLI calls to a --server");
                }
                else
                    Assert.True(ConfigKeys.IsEnvName(name), $"{owner}: env {name} is not a configuration key");
                if (env.Str("valueFrom", "secretKeyRef", "name") is { } secret) referencedMaps.Add(("Secret", secret));
            }
            foreach (var from in container.Seq("envFrom"))
            {
                if (from.Str("configMapRef", "name") is { } cm) referencedMaps.Add(("ConfigMap", cm));
                if (from.Str("secretRef", "name") is { } secret) referencedMaps.Add(("Secret", secret));
            }
        }

        // Keys of the ConfigMaps/Secrets the service reads (and patches to them) become env vars too.
        foreach (var map in Tree.Resources.Concat(Tree.Patches).Where(m => referencedMaps.Contains((m.Kind!, m.Name!))))
            foreach (var key in map.Root.StrMap("data").Keys.Concat(map.Root.StrMap("stringData").Keys))
                Assert.True(ConfigKeys.IsEnvName(key) || ConfigKeys.ClientEnvNames.Contains(key), $"{map}: key {key} is not a configuration key");
    }

    [Fact]
    public void Images_are_pinned()
    {
        var images = Tree.Resources.Concat(Tree.Patches)
            .SelectMany(m => m.Containers.Select(c => (Where: m.ToString(), Image: c.Str("image"))))
            .Where(x => x.Image is not null)
            .ToList();
        Assert.NotEmpty(images);
        Assert.All(images, x => Assert.True(Images.IsPinned(x.Image!), $"{x.Where}: image {x.Image} is not pinned"));

        foreach (var kustomization in Tree.KustomizationFiles)
            foreach (var image in Yaml.LoadDocuments(kustomization).Single().Seq("images"))
                Assert.True(image.Str("digest") is not null || image.Str("newTag") is { } tag && tag != "latest",
                    $"{kustomization}: image override {image.Str("name")} is not pinned");
    }

    [Fact]
    public void ConfigMap_secret_and_volume_references_resolve()
    {
        Assert.All(Tree.Workloads, w =>
        {
            var pod = w.PodSpec;
            var volumes = pod.Seq("volumes").Select(v => v.Str("name")).ToHashSet();
            volumes.UnionWith(w.Root.Seq("spec", "volumeClaimTemplates").Select(t => t.Str("metadata", "name")));
            foreach (var container in w.Containers)
            {
                foreach (var from in container.Seq("envFrom"))
                {
                    if (from.Str("configMapRef", "name") is { } cm) Assert.True(Tree.Find("ConfigMap", cm) is not null, $"{w}: ConfigMap {cm}");
                    if (from.Str("secretRef", "name") is { } s) Assert.True(Tree.Find("Secret", s) is not null, $"{w}: Secret {s}");
                }
                foreach (var env in container.Seq("env"))
                {
                    AssertKeyRef(w, env.At("valueFrom", "configMapKeyRef"), "ConfigMap");
                    AssertKeyRef(w, env.At("valueFrom", "secretKeyRef"), "Secret");
                }
                foreach (var mount in container.Seq("volumeMounts"))
                    Assert.True(volumes.Contains(mount.Str("name")), $"{w}: volumeMount {mount.Str("name")} has no volume");
            }
            foreach (var volume in pod.Seq("volumes"))
            {
                if (volume.Str("configMap", "name") is { } cm) Assert.True(Tree.Find("ConfigMap", cm) is not null, $"{w}: ConfigMap {cm}");
                if (volume.Str("secret", "secretName") is { } s) Assert.True(Tree.Find("Secret", s) is not null, $"{w}: Secret {s}");
                if (volume.Str("persistentVolumeClaim", "claimName") is { } pvc)
                    Assert.True(Tree.Find("PersistentVolumeClaim", pvc) is not null, $"{w}: PVC {pvc}");
            }
        });
    }

    private static void AssertKeyRef(Manifest owner, YamlNode? keyRef, string kind)
    {
        if (keyRef is null) return;
        var name = keyRef.Str("name");
        var key = keyRef.Str("key")!;
        var target = Tree.Find(kind, name);
        Assert.True(target is not null, $"{owner}: {kind} {name} does not exist");
        Assert.True(target!.Root.StrMap("data").ContainsKey(key) || target.Root.StrMap("stringData").ContainsKey(key),
            $"{owner}: {kind} {name} has no key {key}");
    }

    [Fact]
    public void Jobs_retry_a_bounded_number_of_times_and_clean_up()
    {
        var jobs = Tree.OfKind("Job").ToList();
        Assert.Contains(jobs, j => j.Containers.Any(c => c.Strings("command").Concat(c.Strings("args")).SequenceEqual(["recommend", "migrate"])));
        Assert.Contains(jobs, j => j.Containers.Any(c => c.Strings("args").Take(2).SequenceEqual(["reindex", "start"]) && c.Strings("args").Contains("--wait")));
        Assert.All(jobs, job =>
        {
            Assert.NotNull(job.Root.Int("spec", "backoffLimit"));
            Assert.NotNull(job.Root.Int("spec", "ttlSecondsAfterFinished"));
            Assert.Contains(job.PodSpec.Str("restartPolicy"), new[] { "Never", "OnFailure" });
        });
    }

    [Fact]
    public void Indexed_reindex_job_gives_each_pod_its_own_shard()
    {
        var indexed = Tree.OfKind("Job").Where(j => j.Root.Str("spec", "completionMode") == "Indexed").ToList();
        Assert.NotEmpty(indexed);
        Assert.All(indexed, job =>
        {
            var completions = job.Root.Int("spec", "completions");
            Assert.NotNull(completions);
            Assert.Equal(completions, job.Root.Int("spec", "parallelism"));

            var worker = job.Containers.Single();
            var args = worker.Strings("args").ToList();
            Assert.Equal(["reindex", "worker"], args.Take(2));
            Assert.Equal("$(JOB_COMPLETION_INDEX)", ValueAfter(args, "--shard-index"));
            Assert.Equal(completions.ToString(), ValueAfter(args, "--shard-count"));
            Assert.Equal("$(JOB_UID)", ValueAfter(args, "--job-id"));
            Assert.Equal("json", ValueAfter(args, "--progress"));
            var index = worker.Seq("env").SingleOrDefault(e => e.Str("name") == "JOB_COMPLETION_INDEX");
            Assert.True(index is not null, "JOB_COMPLETION_INDEX must be defined for $(...) expansion");
            Assert.Contains("job-completion-index", index.Str("valueFrom", "fieldRef", "fieldPath"));
        });
    }

    private static string? ValueAfter(List<string> args, string flag)
    {
        var i = args.IndexOf(flag);
        return i >= 0 && i + 1 < args.Count ? args[i + 1] : null;
    }

    [Fact]
    public void One_cron_job_trains_the_learned_model_and_the_replicas_only_load_it()
    {
        var cron = Tree.OfKind("CronJob").Single(c => c.Containers.Any(k => k.Strings("command").SequenceEqual(["recommend", "train", "--progress", "json"])));
        // Never two trainings at once; each publishes a whole version or nothing.
        Assert.Equal("Forbid", cron.Root.Str("spec", "concurrencyPolicy"));
        Assert.Equal(5, cron.Root.Str("spec", "schedule")!.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        var container = cron.Containers.Single();
        Assert.Contains(container.Seq("envFrom"), e => e.Str("configMapRef", "name") == "recommend-config");
        Assert.Contains(container.Seq("env"), e => e.Str("name") == "ConnectionStrings__Postgres");
        Assert.Equal("false", ServiceConfig["Recommend__Training__InHost"]);
    }

    [Fact]
    public void Qdrant_runs_as_a_replicated_three_node_cluster()
    {
        var qdrant = Tree.OfKind("StatefulSet").Single(s => s.Containers.Any(c => Images.Repository(c.Str("image")!) == "qdrant/qdrant"));
        var replicas = qdrant.Root.Int("spec", "replicas") ?? 1;
        Assert.True(replicas >= 3, "Raft needs at least 3 peers to survive losing one");

        var container = qdrant.Containers.Single();
        var env = container.Seq("env").ToDictionary(e => e.Str("name")!, e => e.Str("value"));
        Assert.Equal("true", env["QDRANT__CLUSTER__ENABLED"]);
        var p2p = container.Seq("ports").Single(p => p.Str("name") == "p2p").Int("containerPort");
        Assert.Equal(env["QDRANT__CLUSTER__P2P__PORT"], p2p.ToString());

        // Peers join through pod 0's stable name on the governing headless Service.
        var script = string.Join("\n", container.Strings("command").Concat(container.Strings("args")));
        var bootstrap = $"http://{qdrant.Name}-0.{qdrant.Root.Str("spec", "serviceName")}:{p2p}";
        Assert.Contains($"--bootstrap \"{bootstrap}\"", script);
        Assert.NotNull(qdrant.Root.Seq("spec", "volumeClaimTemplates").SingleOrDefault());

        var config = ServiceConfig;
        var replication = int.Parse(config[ConfigKeys.ReplicationFactor]);
        Assert.InRange(replication, 2, replicas);
        Assert.True(int.Parse(config[ConfigKeys.ShardCount]) >= replicas, "fewer shards than peers leaves peers idle");

        var pdb = Tree.OfKind("PodDisruptionBudget").Single(p => Tree.Selected(p.Root.StrMap("spec", "selector", "matchLabels")).Contains(qdrant));
        Assert.True(pdb.Root.Int("spec", "maxUnavailable") <= replication - 1, "the PDB may evict every replica of a shard");

        // The service's Qdrant URL names a Service port that reaches these pods' gRPC port.
        var url = new Uri(config[ConfigKeys.QdrantUrl]);
        var svc = Tree.Find("Service", url.Host);
        Assert.True(svc is not null, $"no Service {url.Host}");
        Assert.Contains(qdrant, Tree.Selected(svc!.Root.StrMap("spec", "selector")));
        var target = svc.Root.Seq("spec", "ports").Single(p => p.Int("port") == url.Port).Str("targetPort");
        var containerPort = container.Seq("ports").Single(p => p.Str("name") == target || p.Str("containerPort") == target);
        Assert.Equal(QdrantGrpcPort, containerPort.Int("containerPort"));
    }

    private static string Show(Dictionary<string, string> labels) => string.Join(",", labels.Select(kv => $"{kv.Key}={kv.Value}"));
}
