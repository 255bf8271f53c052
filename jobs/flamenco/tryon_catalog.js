// SPDX-License-Identifier: GPL-3.0-or-later
// Flamenco 3 job type: a try-on catalog rendered as N shards by warm workers, then collected (report + contact
// sheet). Copy this file into the Manager's `scripts/` folder. Each task runs the same command line as an
// OpenJD task or a SLURM array task (`python -m pipeline batch JOB --print-commands --shards N` prints them):
//   PYTHON REPO/pipeline/cli.py batch JOB --shard i/N

const JOB_TYPE = {
  label: "Try-On Catalog",
  description: "Render a try-on catalog job file (garments x bodies x colorways x views) in shards",
  settings: [
    { key: "job_file", type: "string", subtype: "file_path", required: true,
      description: "Catalog job file (JSON or TOML); its output folder must be on shared storage" },
    { key: "chunks", type: "int32", default: 4, propargs: { min: 1, max: 10000 }, required: true,
      description: "Number of shards (tasks); each is one warm worker process" },
    { key: "repo_dir", type: "string", subtype: "dir_path", required: true,
      description: "The try-on pipeline checkout on the workers" },
    { key: "python", type: "string", default: "python", required: true,
      description: "The Python of the project's environment on the workers (e.g. REPO/.venv/bin/python)" },
  ],
};

function shardArgs(settings, index) {
  return [settings.repo_dir + "/pipeline/cli.py", "batch", settings.job_file,
          "--shard", index + "/" + settings.chunks, "--no-contact-sheet"];
}

function compileJob(job) {
  const settings = job.settings;
  const count = Number(settings.chunks);
  if (!Number.isInteger(count) || count < 1) {
    throw "chunks must be a whole number of at least 1, not " + settings.chunks;
  }
  const shards = [];
  for (let i = 1; i <= count; i++) {
    const task = author.Task("shard-" + i + "-of-" + count, "misc");
    task.addCommand(author.Command("exec", { exe: settings.python, args: shardArgs(settings, i) }));
    job.addTask(task);
    shards.push(task);
  }
  const collect = author.Task("collect", "misc");
  collect.addCommand(author.Command("exec", {
    exe: settings.python,
    args: [settings.repo_dir + "/pipeline/cli.py", "batch", settings.job_file, "--collect"],
  }));
  for (const task of shards) {
    collect.addDependency(task);
  }
  job.addTask(collect);
}
