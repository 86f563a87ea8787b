package aws

import (
	"testing"
	"time"

	"github.com/self-heal/self-heal/pkg/fixer"
)

func sgInv() *sgInventory {
	g := func(id string, tags map[string]string) resource {
		return resource{Kind: "security group", ID: id, Tags: tags}
	}
	return &sgInventory{
		Group: securityGroup{resource: g("sg-app", ours()), Name: "app"}, Found: true,
		VPC: "vpc-1", DefaultGroup: "sg-default",
		Refs:    []sgRef{{From: "sg-db", To: "sg-app"}},
		Holders: map[string]resource{"sg-db": g("sg-db", nil), "sg-app": g("sg-app", ours())},
		ENIs: []sgENI{{resource: resource{Kind: "ENI", ID: "eni-1"}, Status: "available",
			Groups: []string{"sg-app"}}},
	}
}

func TestPlanSG(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(*sgInventory)
		foreign bool
		want    fixer.Verdict
		action  []string
	}{
		{"references and a free ENI", func(*sgInventory) {}, false, fixer.Act,
			[]string{"free sg-app: revoke", "take sg-app off available ENI eni-1",
				"the other groups and the ENIs themselves stay"}},
		{"gone", func(i *sgInventory) { i.Found = false }, false, fixer.Nothing,
			[]string{"no longer exists"}},
		{"default group", func(i *sgInventory) { i.Group.Default = true }, false, fixer.Refuse,
			[]string{"default group of vpc-1"}},
		{"group of another stack", func(i *sgInventory) { i.Group.Tags = other() }, false,
			fixer.Refuse, []string{`belongs to stack "infra/other"`}},
		{"rule held by another stack", func(i *sgInventory) {
			i.Holders["sg-db"] = resource{Kind: "security group", ID: "sg-db", Tags: other()}
		}, false, fixer.Refuse, []string{`security group sg-db belongs to stack "infra/other"`,
			"foreign_rules"}},
		{"rule held by another stack, allowed", func(i *sgInventory) {
			i.Holders["sg-db"] = resource{Kind: "security group", ID: "sg-db", Tags: other()}
		}, true, fixer.Act, []string{"revoke"}},
		{"instance ENI", func(i *sgInventory) {
			i.ENIs[0].Status, i.ENIs[0].Instance = "in-use", "i-1"
		}, false, fixer.Refuse, []string{"eni-1 (instance i-1)", "detach or terminate"}},
		{"lambda ENI", func(i *sgInventory) {
			i.ENIs[0].Status, i.ENIs[0].Managed = "in-use", "AWS Lambda VPC ENI-fn"
		}, false, fixer.Wait, []string{"AWS Lambda VPC ENI-fn", "waiting"}},
		{"nothing left", func(i *sgInventory) { i.Refs, i.ENIs = nil, nil }, false,
			fixer.Nothing, []string{"nothing references security group sg-app any more"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inv := sgInv()
			tt.edit(inv)
			got := planSG(inv, testOwn, tt.foreign)
			if got.Verdict != tt.want {
				t.Fatalf("planSG() verdict = %v (%s), want %v", got.Verdict, got.Action, tt.want)
			}
			requireInOrder(t, got.Action, tt.action)
		})
	}
}

func TestSGInventory_remainingGroups(t *testing.T) {
	t.Parallel()
	inv := sgInv()
	tests := []struct {
		groups, want []string
	}{
		{[]string{"sg-app"}, []string{"sg-default"}},
		{[]string{"sg-app", "sg-x"}, []string{"sg-x"}},
	}
	for _, tt := range tests {
		got := inv.remainingGroups(sgENI{Groups: tt.groups})
		if len(got) != len(tt.want) || got[0] != tt.want[0] {
			t.Errorf("remainingGroups(%v) = %v, want %v", tt.groups, got, tt.want)
		}
	}
}

func TestPlanENIs(t *testing.T) {
	t.Parallel()
	eni := func(id, status, managed string, tags map[string]string) vpcENI {
		return vpcENI{resource: resource{Kind: "ENI", ID: id, Tags: tags}, Status: status,
			Managed: managed}
	}
	lambda := eni("eni-l", "in-use", "AWS Lambda VPC ENI-fn", nil)
	tests := []struct {
		name       string
		enis       []vpcENI
		found      bool
		wantWait   fixer.Verdict
		wantDelete fixer.Verdict
		action     string
	}{
		{"free and lambda", []vpcENI{eni("eni-1", "available", "", nil), lambda}, true,
			fixer.Act, fixer.Wait, "AWS still holds 1 ENI"},
		{"free only", []vpcENI{eni("eni-1", "available", "", ours())}, true,
			fixer.Nothing, fixer.Act, "delete 1 available ENI in subnet subnet-1: eni-1"},
		{"free of another stack", []vpcENI{eni("eni-1", "available", "", other())}, true,
			fixer.Nothing, fixer.Refuse, `ENI eni-1 belongs to stack "infra/other"`},
		{"instance ENI", []vpcENI{eni("eni-1", "available", "", nil),
			eni("eni-2", "in-use", "", nil)}, true, fixer.Nothing, fixer.Refuse,
			"instances still use ENIs"},
		{"empty", nil, true, fixer.Nothing, fixer.Nothing, "no available ENI is left"},
		{"subnet gone", nil, false, fixer.Nothing, fixer.Nothing, "no longer exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inv := &subnetENIs{Subnet: "subnet-1", Found: tt.found, ENIs: tt.enis}
			if got := planWaitENIs(inv, time.Minute); got.Verdict != tt.wantWait {
				t.Errorf("planWaitENIs() verdict = %v (%s), want %v", got.Verdict, got.Action,
					tt.wantWait)
			}
			got := planDeleteENIs(inv, testOwn)
			if got.Verdict != tt.wantDelete {
				t.Fatalf("planDeleteENIs() verdict = %v (%s), want %v", got.Verdict, got.Action,
					tt.wantDelete)
			}
			requireInOrder(t, got.Action, []string{tt.action})
		})
	}
}
