import assert from "node:assert/strict";
import { test } from "node:test";
import { JobAccessError, mayAccessJob, tagsForNewJob, visibleJobs, type JobPrincipal } from "./job-access.ts";

const key = (scopes: string[], limitTags: string[] = [], id = "k1"): JobPrincipal => ({ id, scopes, limitTags });

test("a limited key's new jobs get its limit tags, keep other tags, and refuse another value of a limit tag", () => {
  const limited = key(["listen"], ["team=a", "env=prod"]);
  assert.deepEqual(tagsForNewJob(limited, []), ["team=a", "env=prod"]);
  assert.deepEqual(tagsForNewJob(limited, ["call-1", "team=a"]), ["call-1", "team=a", "env=prod"]);
  assert.throws(() => tagsForNewJob(limited, ["env=dev"]), (error: unknown) => {
    assert.ok(error instanceof JobAccessError);
    assert.equal(error.status, 403);
    assert.equal(error.message, 'this API key may only create jobs tagged team=a, env=prod; "env=dev" is not allowed');
    return true;
  });
  assert.deepEqual(tagsForNewJob(key(["listen"]), ["team=b"]), ["team=b"], "an unlimited key tags freely");
});

test("access: limit tags decide for limited keys (admin too); otherwise ownership, or admin", () => {
  const teamJob = { owner: "someone", tags: ["team=a", "x"] };
  const otherJob = { owner: "k1", tags: ["team=b"] };
  assert.equal(mayAccessJob(key(["listen"], ["team=a"]), teamJob), true);
  assert.equal(mayAccessJob(key(["listen"], ["team=a"]), otherJob), false, "even its own job, once outside its tags");
  assert.equal(mayAccessJob(key(["admin"], ["team=a"]), otherJob), false);
  assert.equal(mayAccessJob(key(["listen"], ["team=a", "env=prod"]), teamJob), false, "every limit tag must be present");
  assert.equal(mayAccessJob(key(["listen"]), otherJob), true);
  assert.equal(mayAccessJob(key(["listen"]), teamJob), false);
  assert.equal(mayAccessJob(key(["admin"]), teamJob), true);
  assert.deepEqual(visibleJobs(key(["admin"], ["team=a"])), { tags: ["team=a"] });
  assert.deepEqual(visibleJobs(key(["listen"])), { owner: "k1" });
  assert.deepEqual(visibleJobs(key(["admin"])), {});
});
