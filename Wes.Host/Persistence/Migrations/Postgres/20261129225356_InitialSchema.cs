using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Wes.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class InitialSchema : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "executors",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    host = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    pid = table.Column<int>(type: "integer", nullable: false),
                    workers = table.Column<int>(type: "integer", nullable: false),
                    running = table.Column<int>(type: "integer", nullable: false),
                    started_at = table.Column<long>(type: "bigint", nullable: false),
                    last_seen_at = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_executors", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "run_state_history",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    run_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    from_state = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    to_state = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    at = table.Column<long>(type: "bigint", nullable: false),
                    actor = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    reason = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_run_state_history", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "run_tasks",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    run_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    task_id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    name = table.Column<string>(type: "text", nullable: false),
                    cmd_json = table.Column<string>(type: "text", nullable: true),
                    start_time = table.Column<long>(type: "bigint", nullable: true),
                    end_time = table.Column<long>(type: "bigint", nullable: true),
                    exit_code = table.Column<int>(type: "integer", nullable: true),
                    system_logs_json = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_run_tasks", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "runs",
                columns: table => new
                {
                    seq = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    run_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    state = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    submitted_at = table.Column<long>(type: "bigint", nullable: false),
                    started_at = table.Column<long>(type: "bigint", nullable: true),
                    ended_at = table.Column<long>(type: "bigint", nullable: true),
                    updated_at = table.Column<long>(type: "bigint", nullable: false),
                    provider = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    workflow_type = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    workflow_type_version = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    workflow_url = table.Column<string>(type: "text", nullable: false),
                    engine = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    engine_version = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    attempt = table.Column<int>(type: "integer", nullable: false),
                    not_before = table.Column<long>(type: "bigint", nullable: true),
                    lease_owner = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    lease_expires_at = table.Column<long>(type: "bigint", nullable: true),
                    engine_pid = table.Column<int>(type: "integer", nullable: true),
                    exit_code = table.Column<int>(type: "integer", nullable: true),
                    error_message = table.Column<string>(type: "text", nullable: true),
                    cmd_json = table.Column<string>(type: "text", nullable: true),
                    outputs_json = table.Column<string>(type: "text", nullable: true),
                    request_json = table.Column<string>(type: "text", nullable: false),
                    tags_json = table.Column<string>(type: "text", nullable: false),
                    system_logs_json = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_runs", x => x.seq);
                });

            migrationBuilder.CreateTable(
                name: "server_settings",
                columns: table => new
                {
                    key = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    value = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_server_settings", x => x.key);
                });

            migrationBuilder.CreateIndex(
                name: "IX_executors_last_seen_at",
                table: "executors",
                column: "last_seen_at");

            migrationBuilder.CreateIndex(
                name: "IX_run_state_history_run_id_id",
                table: "run_state_history",
                columns: new[] { "run_id", "id" });

            migrationBuilder.CreateIndex(
                name: "IX_run_tasks_run_id_id",
                table: "run_tasks",
                columns: new[] { "run_id", "id" });

            migrationBuilder.CreateIndex(
                name: "IX_run_tasks_run_id_task_id",
                table: "run_tasks",
                columns: new[] { "run_id", "task_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_runs_run_id",
                table: "runs",
                column: "run_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_runs_state_seq",
                table: "runs",
                columns: new[] { "state", "seq" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "executors");

            migrationBuilder.DropTable(
                name: "run_state_history");

            migrationBuilder.DropTable(
                name: "run_tasks");

            migrationBuilder.DropTable(
                name: "runs");

            migrationBuilder.DropTable(
                name: "server_settings");
        }
    }
}
