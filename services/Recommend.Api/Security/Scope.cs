namespace Recommend.Api.Security;

/// <summary>What a key may call. <see cref="Admin"/> may call everything; <see cref="Experiments"/> includes <see cref="Reports"/>.</summary>
public enum Scope
{
    Storefront,
    Catalog,
    Experiments,
    Reports,
    Admin,
}

internal static class Scopes
{
    public static string Name(this Scope scope) => scope.ToString().ToLowerInvariant();

    public static bool TryParse(string name, out Scope scope) =>
        Enum.TryParse(name, ignoreCase: true, out scope) && Enum.IsDefined(scope) && scope.Name() == name.Trim().ToLowerInvariant();

    /// <summary>Whether a key holding <paramref name="granted"/> may call a method that needs <paramref name="needed"/>.</summary>
    public static bool Allows(this IReadOnlySet<Scope> granted, Scope needed) =>
        granted.Contains(needed) || granted.Contains(Scope.Admin) || (needed == Scope.Reports && granted.Contains(Scope.Experiments));

    /// <summary>
    /// The scope a gRPC method needs, by its full name ("/recommend.v1.Catalog/UpsertProducts"); null for the open
    /// services (health, reflection). Anything not named here needs admin, so a new service is closed until mapped.
    /// </summary>
    public static Scope? Needed(string method)
    {
        var (service, name) = Split(method);
        return service switch
        {
            "grpc.health.v1.Health" or "grpc.reflection.v1alpha.ServerReflection" or "grpc.reflection.v1.ServerReflection" => null,
            "recommend.v1.Recommendations" or "recommend.v1.Events" => Scope.Storefront,
            "recommend.v1.Catalog" => Scope.Catalog,
            "recommend.v1.Experiments" => name is "GetExperimentReport" or "GetExperiment" or "ListExperiments" ? Scope.Reports : Scope.Experiments,
            _ => Scope.Admin,
        };
    }

    public static (string Service, string Method) Split(string method)
    {
        var trimmed = method.TrimStart('/');
        var slash = trimmed.IndexOf('/');
        return slash < 0 ? (trimmed, "") : (trimmed[..slash], trimmed[(slash + 1)..]);
    }
}
