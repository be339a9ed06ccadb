# Wes.Host: the WES API and its executor pool in one container, with cwltool, Toil and Snakemake as the engines.
#   docker build -t wes-host .
#   docker run -p 5000:5000 -v wes-data:/data wes-host

# Build stage: a framework-dependent publish of the one executable.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore from the files that pin the packages first, so a code change reuses the restored layer.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY Wes.Host/Wes.Host.csproj Wes.Host/
RUN dotnet restore Wes.Host -r linux-x64
COPY . .
RUN dotnet publish Wes.Host -c Release -r linux-x64 --self-contained false -o /app

# Runtime stage: the ASP.NET runtime image (Ubuntu 24.04 for .NET 10) plus the engines.
FROM mcr.microsoft.com/dotnet/aspnet:10.0
# cwltool and Toil run CWL workflows, Snakemake runs Snakefiles. Node.js evaluates CWL JavaScript expressions:
# cwltool only recommends it, so --no-install-recommends would leave it out. Bubblewrap is the sandbox every engine
# runs in; it needs user namespaces and a /proc of its own, which Docker grants with
#   docker run --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined
# (or run with -e WES_SANDBOX=off, leaving the container as the only fence around the workflows).
RUN apt-get update \
    && apt-get install -y --no-install-recommends cwltool toil snakemake nodejs bubblewrap curl \
    && rm -rf /var/lib/apt/lists/*

# Inside a container the server must listen on 0.0.0.0 to be reachable through a published port; outside one it
# keeps its default, localhost. ASPNETCORE_HTTP_PORTS is cleared so the base image's port 8080 does not compete.
ENV ASPNETCORE_URLS=http://0.0.0.0:5000 \
    ASPNETCORE_HTTP_PORTS="" \
    WES_DATA_DIR=/data

WORKDIR /app
COPY --from=build /app .

# The base image's unprivileged "app" user (uid $APP_UID) owns the data folder; the ownership is set before
# VOLUME so that a new named volume starts out owned by it too.
RUN mkdir -p /data && chown "$APP_UID:$APP_UID" /data
VOLUME /data
EXPOSE 5000
USER $APP_UID

# Ready means: database reachable and migrated, an engine available, the executor pool alive. The start period
# covers the engines' version probe on a first start.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD curl -fsS http://localhost:5000/health/ready || exit 1

# SIGTERM (docker stop) hands runs in flight back to the queue after WES_SHUTDOWN_GRACE seconds; give the
# container that long plus a few seconds (docker run --stop-timeout 30).
ENTRYPOINT ["dotnet", "Wes.Host.dll"]
