using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Wes.Persistence.Migrations.Sqlite
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
                    id = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    host = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    pid = table.Column<int>(type: "INTEGER", nullable: false),
                    workers = table.Column<int>(type: "INTEGER", nullable: false),
                    running = table.Column<int>(type: "INTEGER", nullable: false),
                    started_at = table.Column<long>(type: "INTEGER", nullable: false),
                    last_seen_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_executors", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "run_state_history",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    run_id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    from_state = table.Column<string>(type: "TEXT", maxLength: 20, nullable: true),
                    to_state = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    at = table.Column<long>(type: "INTEGER", nullable: false),
                    actor = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    reason = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_run_state_history", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "run_tasks",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    run_id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    task_id = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    name = table.Column<string>(type: "TEXT", nullable: false),
                    cmd_json = table.Column<string>(type: "TEXT", nullable: true),
                    start_time = table.Column<long>(type: "INTEGER", nullable: true),
                    end_time = table.Column<long>(type: "INTEGER", nullable: true),
                    exit_code = table.Column<int>(type: "INTEGER", nullable: true),
                    system_logs_json = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_run_tasks", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "runs",
                columns: table => new
                {
                    seq = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    run_id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    state = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    submitted_at = table.Column<long>(type: "INTEGER", nullable: false),
                    started_at = table.Column<long>(type: "INTEGER", nullable: true),
                    ended_at = table.Column<long>(type: "INTEGER", nullable: true),
                    updated_at = table.Column<long>(type: "INTEGER", nullable: false),
                    provider = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    workflow_type = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    workflow_type_version = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    workflow_url = table.Column<string>(type: "TEXT", nullable: false),
                    engine = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    engine_version = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    attempt = table.Column<int>(type: "INTEGER", nullable: false),
                    not_before = table.Column<long>(type: "INTEGER", nullable: true),
                    lease_owner = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    lease_expires_at = table.Column<long>(type: "INTEGER", nullable: true),
                    engine_pid = table.Column<int>(type: "INTEGER", nullable: true),
                    exit_code = table.Column<int>(type: "INTEGER", nullable: true),
                    error_message = table.Column<string>(type: "TEXT", nullable: true),
                    cmd_json = table.Column<string>(type: "TEXT", nullable: true),
                    outputs_json = table.Column<string>(type: "TEXT", nullable: true),
                    request_json = table.Column<string>(type: "TEXT", nullable: false),
                    tags_json = table.Column<string>(type: "TEXT", nullable: false),
                    system_logs_json = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_runs", x => x.seq);
                });

            migrationBuilder.CreateTable(
                name: "server_settings",
                columns: table => new
                {
                    key = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    value = table.Column<string>(type: "TEXT", nullable: false)
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
