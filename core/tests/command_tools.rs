//! Tool models (`kubectl`, `aws`, `git`, SQL clients) and the rule conditions written in their
//! terms. Every input is a string literal: nothing here is ever run.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use writ::command::{
    AwsModel, CommandLineView, CommandView, GitModel, KubectlModel, Limits, SqlClientModel,
    ToolModel, parse_line,
};
use writ::{Effect, Engine, Principal, Request};

fn parse(line: &str) -> CommandLineView {
    parse_line(line, &Limits::default())
}

/// The first command of `line` whose program is `program`.
fn command(line: &str, program: &str) -> CommandView {
    let view = parse(line);
    view.commands
        .iter()
        .find(|c| c.program == program)
        .cloned()
        .unwrap_or_else(|| panic!("no `{program}` in `{line}`: {view:?}"))
}

fn kubectl(line: &str) -> KubectlModel {
    match command(line, "kubectl").tool {
        Some(ToolModel::Kubectl(k)) => k,
        other => panic!("`{line}`: {other:?}"),
    }
}

fn aws(line: &str) -> AwsModel {
    match command(line, "aws").tool {
        Some(ToolModel::Aws(a)) => a,
        other => panic!("`{line}`: {other:?}"),
    }
}

fn git(line: &str) -> (GitModel, bool) {
    let c = command(line, "git");
    match c.tool {
        Some(ToolModel::Git(g)) => (g, c.dynamic),
        other => panic!("`{line}`: {other:?}"),
    }
}

fn sql_client(line: &str, program: &str) -> SqlClientModel {
    match command(line, program).tool {
        Some(ToolModel::SqlClient(s)) => s,
        other => panic!("`{line}`: {other:?}"),
    }
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

// --- kubectl ---------------------------------------------------------------------------------

#[test]
fn kubectl_verbs_resources_names_and_namespaces() {
    // line, verb, resources, names, namespace, context
    type Case<'a> =
        (&'a str, &'a str, &'a [&'a str], &'a [&'a str], Option<&'a str>, Option<&'a str>);
    let cases: &[Case<'_>] = &[
        ("kubectl get pods", "get", &["pods"], &[], None, None),
        ("kubectl get po", "get", &["pods"], &[], None, None),
        ("kubectl get ns", "get", &["namespaces"], &[], None, None),
        ("kubectl delete deploy web", "delete", &["deployments"], &["web"], None, None),
        ("kubectl delete deployment/web", "delete", &["deployments"], &["web"], None, None),
        ("kubectl delete deployments.apps web", "delete", &["deployments"], &["web"], None, None),
        ("kubectl get svc,cm -n dev", "get", &["services", "configmaps"], &[], Some("dev"), None),
        (
            "kubectl -n prod --context east delete pod api-1",
            "delete",
            &["pods"],
            &["api-1"],
            Some("prod"),
            Some("east"),
        ),
        (
            "kubectl --namespace=prod delete po/a po/b",
            "delete",
            &["pods"],
            &["a", "b"],
            Some("prod"),
            None,
        ),
        ("kubectl delete pod x --namespace prod", "delete", &["pods"], &["x"], Some("prod"), None),
        ("kubectl -nprod get secret db", "get", &["secrets"], &["db"], Some("prod"), None),
        ("kubectl get pods -A", "get", &["pods"], &[], Some("*"), None),
        ("kubectl get pods --all-namespaces -o wide", "get", &["pods"], &[], Some("*"), None),
        (
            "kubectl get sts,ds,rs,cj,hpa,netpol,pvc,pv,sa,ing,crd,no",
            "get",
            &[
                "statefulsets",
                "daemonsets",
                "replicasets",
                "cronjobs",
                "horizontalpodautoscalers",
                "networkpolicies",
                "persistentvolumeclaims",
                "persistentvolumes",
                "serviceaccounts",
                "ingresses",
                "customresourcedefinitions",
                "nodes",
            ],
            &[],
            None,
            None,
        ),
        (
            "kubectl delete rolebinding admin clusterrolebinding",
            "delete",
            &["rolebindings"],
            &["admin", "clusterrolebinding"],
            None,
            None,
        ),
        (
            "kubectl get certificates.cert-manager.io",
            "get",
            &["certificates.cert-manager.io"],
            &[],
            None,
            None,
        ),
        (
            "kubectl rollout restart deploy/web -n dev",
            "rollout restart",
            &["deployments"],
            &["web"],
            Some("dev"),
            None,
        ),
        ("kubectl scale --replicas=0 deploy web", "scale", &["deployments"], &["web"], None, None),
        ("kubectl label pods web env=prod tier-", "label", &["pods"], &["web"], None, None),
        ("kubectl logs -f web-1 -c app", "logs", &["pods"], &["web-1"], None, None),
        ("kubectl logs deploy/web", "logs", &["deployments"], &["web"], None, None),
        ("kubectl drain node-1 --ignore-daemonsets", "drain", &["nodes"], &["node-1"], None, None),
        (
            "kubectl create secret generic creds --from-literal=a=b",
            "create",
            &["secrets"],
            &["creds"],
            None,
            None,
        ),
        (
            "kubectl create deployment web --image=nginx",
            "create",
            &["deployments"],
            &["web"],
            None,
            None,
        ),
        ("kubectl config use-context prod", "config use-context", &[], &[], None, None),
        ("kubectl version", "version", &[], &[], None, None),
        (
            "kubectl get all -n dev",
            "get",
            &[
                "all",
                "pods",
                "services",
                "deployments",
                "replicasets",
                "statefulsets",
                "daemonsets",
                "jobs",
                "cronjobs",
                "horizontalpodautoscalers",
                "replicationcontrollers",
            ],
            &[],
            Some("dev"),
            None,
        ),
        ("kubectl cp dev/web-1:/tmp/x ./x", "cp", &["pods"], &["web-1"], None, None),
        ("kubectl top pod -n dev", "top", &["pods"], &[], Some("dev"), None),
    ];
    for (line, verb, resources, names, namespace, context) in cases {
        let k = kubectl(line);
        assert_eq!(k.verb.as_deref(), Some(*verb), "{line}");
        assert_eq!(k.resources, strings(resources), "{line}");
        assert_eq!(k.names, strings(names), "{line}");
        assert_eq!(k.namespace.as_deref(), *namespace, "{line}");
        assert_eq!(k.context.as_deref(), *context, "{line}");
        assert!(!k.manifest, "{line}");
        assert_eq!(k.unresolved.contains(&"namespace".to_owned()), namespace.is_none(), "{line}");
        assert_eq!(k.unresolved.contains(&"context".to_owned()), context.is_none(), "{line}");
    }
}

#[test]
fn kubectl_selectors_manifests_and_unknown_arguments() {
    assert!(kubectl("kubectl get pods").selector);
    assert!(kubectl("kubectl delete pods --all -n dev").selector);
    assert!(kubectl("kubectl delete pods -l app=web -n dev").selector);
    assert!(!kubectl("kubectl delete pod web -n dev").selector);
    for line in [
        "kubectl apply -f deploy.yaml",
        "kubectl delete -f https://example.com/x.yaml",
        "kubectl apply -k overlays/prod",
        "kubectl create --filename=x.yaml",
        "kubectl -n prod replace -f -",
    ] {
        let k = kubectl(line);
        assert!(k.manifest, "{line}");
        assert!(k.unresolved.contains(&"resources".to_owned()), "{line}");
        assert!(!ToolModel::Kubectl(k).understood(), "{line}");
    }
    let k = kubectl("kubectl delete pod $POD -n dev");
    assert!(k.unresolved.contains(&"names".to_owned()));
    assert_eq!(k.verb.as_deref(), Some("delete"));
    assert!(!k.unresolved.contains(&"verb".to_owned()));
    let k = kubectl("kubectl $VERB pod web");
    assert!(k.unresolved.contains(&"verb".to_owned()));
}

#[test]
fn kubectl_exec_lists_the_inner_command() {
    let cases: &[(&str, &[&str], &str)] = &[
        ("kubectl exec -it web-1 -- rm -rf /data", &["rm", "-rf", "/data"], "kubectl exec"),
        (
            "kubectl -n prod exec web-1 -c app -- psql -c 'SELECT 1'",
            &["psql", "-c", "SELECT 1"],
            "kubectl exec",
        ),
        ("kubectl exec deploy/web -- sh -c 'id'", &["sh", "-c", "id"], "kubectl exec"),
        ("kubectl exec web-1 ls", &["ls"], "kubectl exec"),
        (
            "kubectl debug node/n1 -it --image=busybox -- chroot /host",
            &["chroot", "/host"],
            "kubectl debug",
        ),
        (
            "kubectl run tmp --image=busybox --command -- wget http://x",
            &["wget", "http://x"],
            "kubectl run",
        ),
    ];
    for (line, inner, label) in cases {
        let view = parse(line);
        let k = kubectl(line);
        assert_eq!(k.exec_command, Some(strings(inner)), "{line}");
        let listed = view
            .commands
            .iter()
            .find(|c| c.program == inner[0])
            .unwrap_or_else(|| panic!("{line}: {view:?}"));
        assert_eq!(listed.via.last().map(String::as_str), Some(*label), "{line}");
    }
    // `sh -c` inside exec is parsed as shell code too
    let view = parse("kubectl exec web -- sh -c 'curl x | sh'");
    assert!(view.dynamic);
    // `kubectl run` without `--command` passes arguments to the image: nothing listed
    let view = parse("kubectl run tmp --image=busybox -- sleep 10");
    assert_eq!(view.commands.len(), 1);
}

// --- aws -------------------------------------------------------------------------------------

#[test]
fn aws_services_operations_actions_and_globals() {
    // line, service, operation, actions, profile, region, recursive
    type Case<'a> =
        (&'a str, &'a str, &'a str, &'a [&'a str], Option<&'a str>, Option<&'a str>, bool);
    let cases: &[Case<'_>] = &[
        ("aws s3 ls", "s3", "ls", &["s3:ListAllMyBuckets"], None, None, false),
        (
            "aws s3 ls s3://b --profile dev",
            "s3",
            "ls",
            &["s3:ListBucket"],
            Some("dev"),
            None,
            false,
        ),
        (
            "aws --profile prod --region eu-west-1 s3 rm s3://b/k",
            "s3",
            "rm",
            &["s3:DeleteObject"],
            Some("prod"),
            Some("eu-west-1"),
            false,
        ),
        (
            "aws s3 rm s3://b/ --recursive",
            "s3",
            "rm",
            &["s3:DeleteObject", "s3:ListBucket"],
            None,
            None,
            true,
        ),
        ("aws s3 rb s3://b", "s3", "rb", &["s3:DeleteBucket"], None, None, false),
        (
            "aws s3 rb s3://b --force",
            "s3",
            "rb",
            &["s3:DeleteBucket", "s3:DeleteObject", "s3:ListBucket"],
            None,
            None,
            true,
        ),
        (
            "aws s3 sync ./site s3://b --delete",
            "s3",
            "sync",
            &["s3:PutObject", "s3:ListBucket", "s3:DeleteObject"],
            None,
            None,
            true,
        ),
        (
            "aws s3 sync ./site s3://b",
            "s3",
            "sync",
            &["s3:PutObject", "s3:ListBucket"],
            None,
            None,
            true,
        ),
        (
            "aws s3 sync s3://b ./site --delete",
            "s3",
            "sync",
            &["s3:GetObject", "s3:ListBucket"],
            None,
            None,
            true,
        ),
        (
            "aws s3 mv s3://a/k s3://b/k",
            "s3",
            "mv",
            &["s3:GetObject", "s3:DeleteObject", "s3:PutObject"],
            None,
            None,
            false,
        ),
        (
            "aws s3 mv s3://a/ s3://b/ --recursive",
            "s3",
            "mv",
            &["s3:GetObject", "s3:DeleteObject", "s3:ListBucket", "s3:PutObject"],
            None,
            None,
            true,
        ),
        ("aws s3 mv ./f s3://b/f", "s3", "mv", &["s3:PutObject"], None, None, false),
        (
            "aws s3 cp s3://b/k . --profile dev",
            "s3",
            "cp",
            &["s3:GetObject"],
            Some("dev"),
            None,
            false,
        ),
        ("aws s3 cp ./f s3://b/k --acl private", "s3", "cp", &["s3:PutObject"], None, None, false),
        (
            "aws s3 mb s3://new --region=us-east-1",
            "s3",
            "mb",
            &["s3:CreateBucket"],
            None,
            Some("us-east-1"),
            false,
        ),
        (
            "aws ec2 terminate-instances --instance-ids i-1 --profile=prod",
            "ec2",
            "terminate-instances",
            &["ec2:TerminateInstances"],
            Some("prod"),
            None,
            false,
        ),
        (
            "aws ec2 describe-instances --region us-east-1",
            "ec2",
            "describe-instances",
            &["ec2:DescribeInstances"],
            None,
            Some("us-east-1"),
            false,
        ),
        (
            "aws iam create-access-key --user-name bob",
            "iam",
            "create-access-key",
            &["iam:CreateAccessKey"],
            None,
            None,
            false,
        ),
        (
            "aws dynamodb delete-table --table-name t",
            "dynamodb",
            "delete-table",
            &["dynamodb:DeleteTable"],
            None,
            None,
            false,
        ),
        (
            "aws s3api delete-object --bucket b --key k",
            "s3api",
            "delete-object",
            &["s3:DeleteObject"],
            None,
            None,
            false,
        ),
        ("aws s3api list-buckets", "s3api", "list-buckets", &["s3:ListBuckets"], None, None, false),
        (
            "aws lambda invoke --function-name f out.json",
            "lambda",
            "invoke",
            &["lambda:Invoke"],
            None,
            None,
            false,
        ),
        (
            "aws rds delete-db-instance --db-instance-identifier d",
            "rds",
            "delete-db-instance",
            &["rds:DeleteDbInstance"],
            None,
            None,
            false,
        ),
        (
            "aws logs delete-log-group --log-group-name g",
            "logs",
            "delete-log-group",
            &["logs:DeleteLogGroup"],
            None,
            None,
            false,
        ),
        (
            "aws elbv2 delete-load-balancer --load-balancer-arn a",
            "elbv2",
            "delete-load-balancer",
            &["elasticloadbalancing:DeleteLoadBalancer"],
            None,
            None,
            false,
        ),
        (
            "aws stepfunctions start-execution --state-machine-arn a",
            "stepfunctions",
            "start-execution",
            &["states:StartExecution"],
            None,
            None,
            false,
        ),
        (
            "aws secretsmanager get-secret-value --secret-id s",
            "secretsmanager",
            "get-secret-value",
            &["secretsmanager:GetSecretValue"],
            None,
            None,
            false,
        ),
        (
            "aws sts get-caller-identity",
            "sts",
            "get-caller-identity",
            &["sts:GetCallerIdentity"],
            None,
            None,
            false,
        ),
        (
            "aws kms schedule-key-deletion --key-id k",
            "kms",
            "schedule-key-deletion",
            &["kms:ScheduleKeyDeletion"],
            None,
            None,
            false,
        ),
        (
            "aws --debug --output json --no-verify-ssl --endpoint-url http://localhost:4566 sqs delete-queue --queue-url u",
            "sqs",
            "delete-queue",
            &["sqs:DeleteQueue"],
            None,
            None,
            false,
        ),
        (
            "aws configservice describe-config-rules",
            "configservice",
            "describe-config-rules",
            &["config:DescribeConfigRules"],
            None,
            None,
            false,
        ),
    ];
    for (line, service, operation, actions, profile, region, recursive) in cases {
        let a = aws(line);
        assert_eq!(a.service.as_deref(), Some(*service), "{line}");
        assert_eq!(a.operation.as_deref(), Some(*operation), "{line}");
        assert_eq!(a.actions, strings(actions), "{line}");
        assert_eq!(a.profile.as_deref(), *profile, "{line}");
        assert_eq!(a.region.as_deref(), *region, "{line}");
        assert_eq!(a.recursive, *recursive, "{line}");
        assert_eq!(a.unresolved.contains(&"profile".to_owned()), profile.is_none(), "{line}");
    }
    let a = aws("aws --endpoint-url http://localhost:4566 s3 ls");
    assert_eq!(a.endpoint_url.as_deref(), Some("http://localhost:4566"));
    let a = aws("aws s3 $OP s3://b --profile dev");
    assert!(a.unresolved.contains(&"actions".to_owned()));
    let a = aws("aws ec2 describe-instances --filters $F --profile dev");
    assert!(!a.unresolved.contains(&"actions".to_owned()), "the operation fixes the action");
    assert!(a.unresolved.contains(&"profile".to_owned()), "`$F` may be `--profile prod`");
}

// --- git -------------------------------------------------------------------------------------

#[test]
fn git_subcommands_and_force() {
    // line, subcommand, force
    let cases: &[(&str, &str, bool)] = &[
        ("git status", "status", false),
        ("git -C /repo status", "status", false),
        ("git -c user.name=x commit -m msg", "commit", false),
        ("git --git-dir=.git --work-tree=. log", "log", false),
        ("git --no-pager -P diff", "diff", false),
        ("git push origin main", "push", false),
        ("git push -u origin feature", "push", false),
        ("git push -f origin main", "push", true),
        ("git push -fu origin main", "push", true),
        ("git push --force origin main", "push", true),
        ("git push --force-with-lease origin main", "push", true),
        ("git push --force-with-lease=main:abc origin main", "push", true),
        ("git push --force-if-includes origin main", "push", true),
        ("git push origin +main", "push", true),
        ("git push origin +HEAD:main", "push", true),
        ("git push origin main:+main", "push", true),
        ("git -C repo push origin +main", "push", true),
        ("git push --mirror backup", "push", true),
        ("git push --delete origin feature", "push", true),
        ("git push origin :feature", "push", true),
        ("git push -d origin feature", "push", true),
        ("git push --prune origin", "push", true),
        ("git reset --hard HEAD~1", "reset", true),
        ("git reset --soft HEAD~1", "reset", false),
        ("git clean -fd", "clean", true),
        ("git clean -n", "clean", false),
        ("git clean --force -x", "clean", true),
        ("git checkout -f main", "checkout", true),
        ("git checkout -- src/lib.rs", "checkout", true),
        ("git checkout .", "checkout", true),
        ("git checkout -b feature", "checkout", false),
        ("git switch --discard-changes main", "switch", true),
        ("git switch -c feature", "switch", false),
        ("git branch -D old", "branch", true),
        ("git branch -d old", "branch", false),
        ("git restore src/lib.rs", "restore", true),
        ("git restore --staged src/lib.rs", "restore", false),
        ("git stash drop", "stash", true),
        ("git stash", "stash", false),
        ("git tag -f v1", "tag", true),
        ("git reflog expire --expire=now --all", "reflog", true),
    ];
    for (line, subcommand, force) in cases {
        let (g, dynamic) = git(line);
        assert_eq!(g.subcommand.as_deref(), Some(*subcommand), "{line}");
        assert_eq!(g.force, *force, "{line}");
        assert!(!dynamic, "{line}");
    }
    let (g, _) = git("git push origin $BRANCH");
    assert!(g.unresolved.contains(&"force".to_owned()));
    assert!(!g.unresolved.contains(&"subcommand".to_owned()));
}

#[test]
fn git_configs_that_run_programs_are_dynamic() {
    for line in [
        "git -c alias.x='!rm -rf /' x",
        "git -c alias.st='push --force' st",
        "git -c core.pager='sh -c id' log",
        "git -c core.sshCommand='sh -c id' fetch",
        "git -c core.editor=vim commit",
        "git -c core.hooksPath=/tmp/hooks commit -m x",
        "git -c core.fsmonitor=/tmp/x status",
        "git -c credential.helper='!f() { id; }; f' fetch",
        "git -c credential.https://example.com.helper=x fetch",
        "git -c diff.x.textconv=cat diff",
        "git -c filter.lfs.smudge=x checkout main",
        "git -c pager.log=less log",
        "git -c include.path=/tmp/cfg status",
        "git -c protocol.ext.allow=always fetch",
        "git -c \"$CFG\" status",
        "git --config-env=core.pager=PAGER log",
        "git --exec-path=/tmp/bin status",
        "git clone --upload-pack='touch /tmp/x' repo",
        "git clone -u 'touch /tmp/x' repo",
        "git clone -c core.sshCommand=x repo",
        "git fetch --upload-pack=x origin",
        "git push --receive-pack=x origin",
        "git config core.pager 'sh -c id'",
        "git config --global alias.x '!id'",
        "git config set core.hooksPath /tmp",
        "git grep -Ovim pattern",
        "git filter-branch --tree-filter 'rm x' HEAD",
    ] {
        let view = parse(line);
        let c = command(line, "git");
        assert!(c.dynamic, "{line}");
        assert!(view.dynamic, "{line}");
    }
    for line in
        ["git -c user.email=a@b commit -m x", "git config core.pager", "git config user.name bob"]
    {
        assert!(!command(line, "git").dynamic, "{line}");
    }
}

#[test]
fn git_lists_the_shell_code_it_runs() {
    let cases: &[(&str, &str, &str)] = &[
        ("git submodule foreach 'rm -rf build'", "rm", "git submodule foreach"),
        ("git rebase -x 'cargo test' main", "cargo", "git rebase --exec"),
        ("git rebase --exec='make check' main", "make", "git rebase --exec"),
        ("git bisect run ./check.sh arg", "check.sh", "git bisect run"),
        ("git difftool --extcmd=meld", "meld", "git difftool --extcmd"),
    ];
    for (line, program, label) in cases {
        let c = command(line, program);
        assert_eq!(c.via.last().map(String::as_str), Some(*label), "{line}");
    }
}

// --- SQL clients ----------------------------------------------------------------------------

#[test]
fn sql_clients_report_their_sql() {
    // line, program, sql, opaque
    let cases: &[(&str, &str, Option<&str>, bool)] = &[
        ("psql -c 'DELETE FROM t'", "psql", Some("DELETE FROM t;"), false),
        ("psql -h db -U app -d app --command='SELECT 1'", "psql", Some("SELECT 1;"), false),
        ("psql -c 'SELECT 1' -c 'SELECT 2;'", "psql", Some("SELECT 1;\nSELECT 2;"), false),
        ("psql postgres://u@h/db -c 'SELECT 1'", "psql", Some("SELECT 1;"), false),
        ("psql -c '\\! id'", "psql", Some("\\! id;"), true),
        ("psql -f x.sql", "psql", None, true),
        ("psql", "psql", None, true),
        ("psql -c \"$Q\"", "psql", Some("$Q;"), true),
        ("psql <<< 'SELECT 1'", "psql", Some("SELECT 1;"), false),
        ("mysql -u root -e 'DROP TABLE t'", "mysql", Some("DROP TABLE t;"), false),
        ("mysql -psecret -e 'SELECT 1'", "mysql", Some("SELECT 1;"), false),
        ("mysql --execute='system id'", "mysql", Some("system id;"), true),
        ("mariadb -e 'SELECT 1'", "mariadb", Some("SELECT 1;"), false),
        ("sqlite3 app.db 'DROP TABLE t'", "sqlite3", Some("DROP TABLE t;"), false),
        (
            "sqlite3 -cmd 'PRAGMA foreign_keys=on' app.db 'SELECT 1'",
            "sqlite3",
            Some("PRAGMA foreign_keys=on;\nSELECT 1;"),
            false,
        ),
        ("sqlite3 app.db '.shell id'", "sqlite3", Some(".shell id;"), true),
        ("sqlite3 app.db", "sqlite3", None, true),
    ];
    for (line, program, sql, opaque) in cases {
        let s = sql_client(line, program);
        assert_eq!(s.sql.as_deref(), *sql, "{line}");
        assert_eq!(s.opaque.is_some(), *opaque, "{line}: {:?}", s.opaque);
    }
    assert_eq!(sql_client("psql -f x.sql", "psql").file.as_deref(), Some("x.sql"));
    assert!(parse("psql -o '|sh' -c 'SELECT 1'").dynamic);
}

// --- rules in the tools' terms ---------------------------------------------------------------

fn engine(rules: &str) -> Engine {
    let text = format!(
        "version: 1\nresources:\n  - name: box\n    kind: shell\n    sql_clients: [{{programs: [psql, mysql], resource: app-db}}, {{programs: [sqlite3], resource: local-db}}]\n  - {{name: app-db, kind: postgres, default_schema: public}}\n  - {{name: local-db, kind: sqlite}}\nrules:\n{rules}"
    );
    Engine::from_yaml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn check(e: &Engine, line: &str) -> Effect {
    e.check(&Request::command(Principal::new("agent:ops", ["ops"]), "box", line)).effect
}

fn expect(e: &Engine, cases: &[(&str, Effect)]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(line, want)| {
            let got = check(e, line);
            (got != *want).then(|| format!("`{line}`: expected {want}, got {got}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

use Effect::{Allow, ApprovalRequired as Approval, Deny};

#[test]
fn kubectl_rules() {
    let e = engine(
        "  - {id: read, effect: allow, when: {command: {kubectl: {verbs: [get, describe, logs]}}}}
  - {id: dev-deletes, effect: allow, when: {command: {kubectl: {verbs: [delete], namespaces: [dev], names: [\"tmp-*\"]}}}}
  - {id: no-secrets, effect: deny, when: {command: {kubectl: {resources: [secrets], verbs: [get, describe]}}}}
  - {id: no-prod-deletes, effect: deny, when: {command: {kubectl: {verbs: [delete], namespaces: [\"prod*\"]}}}}
  - {id: exec-approval, effect: approval, when: {command: {kubectl: {verbs: [exec]}}}}
  - {id: no-rm-r, effect: deny, when: {command: {programs: [rm], flags: [r]}}}
  - {id: shell, effect: allow, when: {command: {programs: [ls, cat]}}}
",
    );
    expect(
        &e,
        &[
            ("kubectl get pods -n dev", Allow),
            ("kubectl -n prod describe deploy web", Allow),
            ("kubectl get secrets -n dev", Deny),
            ("kubectl get secret/db -n dev", Deny),
            ("kubectl get pods,secrets -n dev", Deny),
            ("kubectl delete pod tmp-1 -n dev", Allow),
            ("kubectl delete pod web -n dev", Deny),
            ("kubectl delete pods --all -n dev", Deny),
            ("kubectl delete pod tmp-1 -n prod", Deny),
            ("kubectl -n prod delete pod tmp-1", Deny),
            ("kubectl --namespace=prod-eu delete pod tmp-1", Deny),
            ("kubectl delete pod tmp-1 -A", Deny),
            ("kubectl delete pod tmp-1", Deny),
            ("kubectl delete ns prod -n dev", Deny),
            ("kubectl delete -f x.yaml -n dev", Deny),
            ("kubectl get -f x.yaml -n dev", Deny),
            ("kubectl exec -it web -n dev -- ls", Approval),
            ("kubectl exec -it web -n dev -- rm -rf /", Deny),
            ("kubectl exec web -n dev -- sh -c 'rm -r /'", Deny),
            ("kubectl delete pod $P -n dev", Deny),
            ("kubectl apply -f x.yaml", Deny),
        ],
    );
    // A kubectl block never matches another program.
    let e = engine(
        "  - {id: all, effect: allow}\n  - {id: k, effect: deny, when: {command: {kubectl: {verbs: [\"*\"]}}}}\n",
    );
    expect(&e, &[("ls", Allow), ("kubectl get pods", Deny)]);
    // -A is every namespace: an allow list needs a pattern matching `*`.
    let e = engine(
        "  - {id: a, effect: allow, when: {command: {kubectl: {namespaces: [dev]}}}}\n  - {id: b, effect: allow, when: {command: {kubectl: {verbs: [top], namespaces: [\"*\"]}}}}\n",
    );
    expect(
        &e,
        &[
            ("kubectl get pods -n dev", Allow),
            ("kubectl get pods -A", Deny),
            ("kubectl top pod -A", Allow),
            ("kubectl get pods", Deny),
        ],
    );
}

#[test]
fn aws_rules_with_action_wildcards() {
    let e = engine(
        "  - {id: read, effect: allow, when: {command: {aws: {actions: [\"*:Describe*\", \"*:List*\", \"*:Get*\"]}}}}
  - {id: no-deletes, effect: deny, when: {command: {aws: {actions: [\"s3:Delete*\", \"ec2:Terminate*\"]}}}}
  - {id: iam-changes, effect: approval, when: {command: {aws: {services: [iam], actions: [\"iam:Create*\", \"iam:Put*\", \"iam:Attach*\", \"iam:Delete*\"]}}}}
  - {id: no-prod, effect: deny, when: {command: {aws: {profiles: [prod]}}}}
",
    );
    expect(
        &e,
        &[
            ("aws ec2 describe-instances --profile dev", Allow),
            ("aws s3 ls s3://b --profile dev", Allow),
            ("aws s3api list-buckets --profile dev", Allow),
            ("aws s3 cp s3://b/k . --profile dev", Allow),
            ("aws rds describe-db-instances --profile dev", Allow),
            ("aws ec2 describe-instances", Deny),
            ("aws ec2 describe-instances --profile prod", Deny),
            ("aws --profile prod ec2 describe-instances", Deny),
            ("aws s3 rm s3://b/k --profile dev", Deny),
            ("aws s3 rm s3://b/ --recursive --profile dev", Deny),
            ("aws s3 rb s3://b --profile dev", Deny),
            ("aws s3 rb s3://b --force --profile dev", Deny),
            ("aws s3 sync . s3://b --delete --profile dev", Deny),
            ("aws s3 sync . s3://b --profile dev", Deny),
            ("aws s3 mv s3://a/k s3://b/k --profile dev", Deny),
            ("aws s3api delete-object --bucket b --key k --profile dev", Deny),
            ("aws s3api delete-bucket --bucket b --profile dev", Deny),
            ("aws ec2 terminate-instances --instance-ids i-1 --profile dev", Deny),
            ("aws iam create-access-key --user-name bob --profile dev", Approval),
            ("aws iam attach-user-policy --user-name bob --policy-arn a --profile dev", Approval),
            ("aws iam list-users --profile dev", Allow),
            ("aws s3 $OP s3://b --profile dev", Deny),
        ],
    );
    // Actions match case-insensitively, as in IAM.
    let e = engine(
        "  - {id: a, effect: allow, when: {command: {aws: {actions: [\"rds:DescribeDBInstances\"]}}}}\n",
    );
    expect(&e, &[("aws rds describe-db-instances", Allow), ("aws rds delete-db-instance", Deny)]);
}

#[test]
fn git_rules() {
    let e = engine(
        "  - {id: git, effect: allow, when: {command: {git: {subcommands: [status, log, diff, add, commit, push, fetch, checkout, reset, clean]}}}}
  - {id: no-force, effect: deny, when: {command: {git: {force: true}}}}
  - {id: push-review, effect: approval, when: {command: {git: {subcommands: [push], force: false}}}}
",
    );
    expect(
        &e,
        &[
            ("git status", Allow),
            ("git -C /repo -c color.ui=always log", Allow),
            ("git commit -m \"$MSG\"", Allow),
            ("git push origin main", Approval),
            ("git push -f origin main", Deny),
            ("git push --force-with-lease origin main", Deny),
            ("git push origin +main", Deny),
            ("git push origin $REF", Deny),
            ("git reset --hard", Deny),
            ("git clean -fd", Deny),
            ("git -c alias.s='!rm -rf /' s", Deny),
            ("git -c core.pager=x log", Deny),
            ("git rebase -i main", Deny),
            ("git submodule foreach 'rm -rf x'", Deny),
        ],
    );
}

#[test]
fn sql_client_sql_is_checked_on_the_named_resource() {
    let e = engine(
        "  - {id: clients, effect: allow, when: {command: {programs: [psql, mysql, sqlite3]}}}
  - {id: reads, effect: allow, when: {resources: [app-db, local-db], sql: {read_only: true}}}
  - {id: no-deletes, effect: deny, when: {resources: [app-db, local-db], sql: {kinds: [delete, drop, truncate]}}}
",
    );
    expect(
        &e,
        &[
            ("psql -c 'SELECT 1'", Allow),
            ("psql -h db -d app -c 'SELECT * FROM orders'", Allow),
            ("psql -c 'DELETE FROM t'", Deny),
            ("psql -c 'SELECT 1' -c 'DELETE FROM t'", Deny),
            ("psql -c 'UPDATE t SET a = 1'", Deny),
            ("mysql -e 'SELECT 1'", Allow),
            ("mysql -e 'DROP TABLE t'", Deny),
            ("mariadb -e 'TRUNCATE t'", Deny),
            ("sqlite3 app.db 'SELECT 1'", Allow),
            ("sqlite3 app.db 'DROP TABLE t'", Deny),
            ("psql -f x.sql", Deny),
            ("psql", Deny),
            ("psql -c '\\! rm -rf /'", Deny),
            ("psql -c \"$Q\"", Deny),
            ("psql <<< 'SELECT 1'", Allow),
            ("psql <<< 'DELETE FROM t'", Deny),
            ("echo ok && psql -c 'SELECT 1'", Deny),
        ],
    );
    let d = e.check(&Request::command(
        Principal::new("agent:ops", ["ops"]),
        "box",
        "psql -c 'DELETE FROM t'",
    ));
    assert_eq!(d.rules, vec!["no-deletes".to_owned()]);
    // Interactive and file-fed clients go to approval where the policy says so.
    let text = "version: 1\nresources:\n  - {name: box, kind: shell, sql_clients: [{programs: [psql], resource: db}]}\n  - {name: db, kind: postgres}\ndefaults: {unknown: approval}\nrules:\n  - {id: c, effect: allow, when: {command: {programs: [psql]}}}\n";
    let e = Engine::from_yaml(text).unwrap();
    expect(&e, &[("psql -f x.sql", Approval)]);
    // Without a route the client is an ordinary command.
    let e = Engine::from_yaml("version: 1\nresources:\n  - {name: box, kind: shell}\nrules:\n  - {id: c, effect: allow, when: {command: {programs: [psql]}}}\n").unwrap();
    expect(&e, &[("psql -c 'DELETE FROM t'", Allow)]);
}

#[test]
fn tool_conditions_are_validated_with_locations() {
    let bad: &[(&str, &str)] = &[
        (
            "when: {command: {kubectl: {resources: [deploy]}}}",
            "write resource type `deployments`, not `deploy`",
        ),
        ("when: {command: {kubectl: {resources: [Pods]}}}", "must be lowercase"),
        ("when: {command: {kubectl: {verbs: []}}}", "empty `verbs` list"),
        ("when: {command: {aws: {actions: [s3-delete]}}}", "not an IAM-style action"),
        ("when: {command: {aws: {profiles: [\"[\"]}}}", "invalid glob"),
        (
            "when: {command: {git: {subcommands: [push]}, aws: {services: [s3]}}}",
            "both `aws` and `git`",
        ),
        ("when: {command: {git: {forced: true}}}", "unknown field `forced`"),
    ];
    for (when, message) in bad {
        let text = format!(
            "version: 1\nresources:\n  - {{name: box, kind: shell}}\nrules:\n  - id: r\n    effect: deny\n    {when}\n"
        );
        let err = Engine::from_yaml(&text).unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains(message), "{when}: {shown}");
        assert!(err.diagnostics().iter().all(|d| d.line >= 5 || d.line == 6), "{when}: {shown}");
    }
    let routes: &[(&str, &str)] = &[
        ("sql_clients: [{programs: [pgcli], resource: db}]", "`pgcli` is not a SQL client"),
        ("sql_clients: [{programs: [psql], resource: nowhere}]", "which no document declares"),
        ("sql_clients: [{programs: [psql], resource: box}]", "not a SQL database"),
        ("sql_clients: [{programs: [psql, psql], resource: db}]", "routed twice"),
    ];
    for (route, message) in routes {
        let text = format!(
            "version: 1\nresources:\n  - name: box\n    kind: shell\n    {route}\n  - {{name: db, kind: postgres}}\n"
        );
        let err = Engine::from_yaml(&text).unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains(message), "{route}: {shown}");
        assert!(shown.contains("<policy>:5:"), "{route}: {shown}");
    }
    let text = "version: 1\nresources:\n  - {name: db, kind: postgres, sql_clients: [{programs: [psql], resource: db}]}\n";
    assert!(
        Engine::from_yaml(text).unwrap_err().to_string().contains("applies to shell resources")
    );
}

#[test]
fn views_keep_their_json_shape_without_a_tool() {
    let json = serde_json::to_value(parse("ls -l")).unwrap();
    assert!(json["commands"][0].get("tool").is_none());
    let json = serde_json::to_value(parse("kubectl get pods -n dev")).unwrap();
    assert_eq!(json["commands"][0]["tool"]["tool"], "kubectl");
    assert_eq!(json["commands"][0]["tool"]["resources"][0], "pods");
}
