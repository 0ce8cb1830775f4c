using YamlDotNet.RepresentationModel;

namespace Recommend.Deploy.Tests;

/// <summary>A Kubernetes object (or strategic-merge patch) and the file it came from.</summary>
public sealed record Manifest(string File, YamlNode Root)
{
    public string? ApiVersion => Root.Str("apiVersion");
    public string? Kind => Root.Str("kind");
    public string? Name => Root.Str("metadata", "name");
    public override string ToString() => $"{Kind}/{Name} ({File})";

    /// <summary>The pod template spec of a workload, or null for other kinds.</summary>
    public YamlNode? PodSpec => Kind switch
    {
        "Deployment" or "StatefulSet" or "Job" or "DaemonSet" or "ReplicaSet" => Root.At("spec", "template", "spec"),
        "CronJob" => Root.At("spec", "jobTemplate", "spec", "template", "spec"),
        _ => null,
    };

    public Dictionary<string, string> PodLabels => Root.StrMap("spec", "template", "metadata", "labels");

    public IEnumerable<YamlNode> Containers => PodSpec.Seq("containers").Concat(PodSpec.Seq("initContainers"));

    public IEnumerable<YamlNode> ContainerPorts => Containers.SelectMany(c => c.Seq("ports"));
}

/// <summary>
/// Everything under deploy/k8s, read through its kustomization files: objects from `resources`,
/// patches from `patches`, and which files some kustomization mentions at all.
/// </summary>
public sealed class DeployTree
{
    public static readonly Lazy<DeployTree> Instance = new(() => new DeployTree(Repo.Path("deploy", "k8s")));

    public string Root { get; }
    public IReadOnlyList<string> YamlFiles { get; }
    public IReadOnlyList<string> KustomizationFiles { get; }
    public IReadOnlyList<Manifest> Resources { get; }
    /// <summary>Strategic-merge patches (JSON 6902 patches are lists and carry no object identity).</summary>
    public IReadOnlyList<Manifest> Patches { get; }
    /// <summary>Paths named by kustomizations, relative to deploy/k8s, that do not exist.</summary>
    public IReadOnlyList<string> DanglingReferences { get; }
    public IReadOnlySet<string> ReferencedFiles { get; }

    private DeployTree(string root)
    {
        Root = root;
        YamlFiles = Directory.EnumerateFiles(root, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        KustomizationFiles = YamlFiles.Where(f => Path.GetFileName(f) is "kustomization.yaml" or "kustomization.yml").ToList();

        var referenced = new HashSet<string>(StringComparer.Ordinal);
        var resourceFiles = new HashSet<string>(StringComparer.Ordinal);
        var patchFiles = new HashSet<string>(StringComparer.Ordinal);
        var dangling = new List<string>();
        foreach (var kustomization in KustomizationFiles)
        {
            var dir = Path.GetDirectoryName(kustomization)!;
            var doc = Yaml.LoadDocuments(kustomization).Single();
            foreach (var entry in doc.Strings("resources"))
            {
                var target = Path.GetFullPath(Path.Combine(dir, entry));
                if (Directory.Exists(target))
                    referenced.Add(Path.Combine(target, "kustomization.yaml"));
                else if (File.Exists(target))
                {
                    referenced.Add(target);
                    resourceFiles.Add(target);
                }
                else
                    dangling.Add(Path.GetRelativePath(root, target));
            }
            foreach (var patch in doc.Seq("patches").Select(p => p.Str("path")).OfType<string>())
            {
                var target = Path.GetFullPath(Path.Combine(dir, patch));
                if (File.Exists(target))
                {
                    referenced.Add(target);
                    patchFiles.Add(target);
                }
                else
                    dangling.Add(Path.GetRelativePath(root, target));
            }
        }

        ReferencedFiles = referenced;
        DanglingReferences = dangling;
        Resources = Load(resourceFiles);
        Patches = Load(patchFiles);
    }

    private List<Manifest> Load(IEnumerable<string> files) =>
        files.Order(StringComparer.Ordinal)
            .SelectMany(f => Yaml.LoadDocuments(f)
                .OfType<YamlMappingNode>()
                .Select(doc => new Manifest(Path.GetRelativePath(Root, f), doc)))
            .ToList();

    public IEnumerable<Manifest> OfKind(string kind) => Resources.Where(m => m.Kind == kind);

    public Manifest? Find(string kind, string? name) => Resources.FirstOrDefault(m => m.Kind == kind && m.Name == name);

    public IEnumerable<Manifest> Workloads => Resources.Where(m => m.PodSpec is not null);

    /// <summary>Workloads whose pod template carries every label of the selector.</summary>
    public IEnumerable<Manifest> Selected(IReadOnlyDictionary<string, string> selector) =>
        selector.Count == 0 ? [] : Workloads.Where(w => Labels.Contain(w.PodLabels, selector));

    /// <summary>Containers that run this repository's image (host or CLI), in resources or patches.</summary>
    public IEnumerable<(Manifest Owner, YamlNode Container)> ServiceContainers()
    {
        foreach (var workload in Workloads)
            foreach (var container in workload.Containers.Where(c => Images.IsServiceImage(c.Str("image"))))
                yield return (workload, container);

        // A patch's container inherits its image from the object it patches.
        foreach (var patch in Patches.Where(p => p.PodSpec is not null))
        {
            var target = Find(patch.Kind!, patch.Name);
            foreach (var container in patch.Containers)
            {
                var image = container.Str("image")
                    ?? target?.Containers.FirstOrDefault(c => c.Str("name") == container.Str("name")).Str("image");
                if (Images.IsServiceImage(image))
                    yield return (patch, container);
            }
        }
    }
}

public static class Labels
{
    public static bool Contain(IReadOnlyDictionary<string, string> labels, IReadOnlyDictionary<string, string> selector) =>
        selector.All(kv => labels.TryGetValue(kv.Key, out var value) && value == kv.Value);
}

public static class Images
{
    /// <summary>The repository part of an image reference (registry/path), without tag or digest.</summary>
    public static string Repository(string image)
    {
        var at = image.IndexOf('@');
        if (at >= 0) image = image[..at];
        var colon = image.LastIndexOf(':');
        return colon > image.LastIndexOf('/') ? image[..colon] : image;
    }

    /// <summary>Pinned: a digest, or an explicit tag other than "latest".</summary>
    public static bool IsPinned(string image)
    {
        if (image.Contains("@sha256:", StringComparison.Ordinal)) return true;
        var colon = image.LastIndexOf(':');
        if (colon <= image.LastIndexOf('/')) return false;
        var tag = image[(colon + 1)..];
        return tag.Length > 0 && tag != "latest";
    }

    public static bool IsServiceImage(string? image) =>
        image is not null && (Repository(image) == "recommend" || Repository(image).EndsWith("/recommend", StringComparison.Ordinal));
}

public static class Repo
{
    private static readonly Lazy<string> RootDir = new(FindRoot);

    public static string Path(params string[] parts) => System.IO.Path.Combine([RootDir.Value, .. parts]);

    // The test binaries may live outside the tree (--artifacts-path), so also walk up from this source file.
    private static string FindRoot() =>
        Up(AppContext.BaseDirectory) ?? Up(SourceDirectory()) ?? throw new InvalidOperationException("Recommend.sln not found above the test binaries or sources.");

    private static string? Up(string? dir)
    {
        for (; dir is not null; dir = System.IO.Path.GetDirectoryName(dir))
            if (File.Exists(System.IO.Path.Combine(dir, "Recommend.sln")))
                return dir;
        return null;
    }

    private static string? SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string file = "") =>
        System.IO.Path.GetDirectoryName(file);
}
