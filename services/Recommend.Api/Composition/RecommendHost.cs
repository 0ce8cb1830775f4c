namespace Recommend.Api.Composition;

/// <summary>Builds the host; Program runs it and the end-to-end tests start it on loopback.</summary>
public static class RecommendHost
{
    /// <param name="configure">Applied before the host is built: tests add log capture here.</param>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddRecommend();
        configure?.Invoke(builder);
        var app = builder.Build();
        app.MapRecommend();
        return app;
    }
}
