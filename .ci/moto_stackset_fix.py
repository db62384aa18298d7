"""One more emulator bug fixed before moto's server starts (imported by .ci/moto_server.py).

moto 5.2.5 creates a stack-set instance's stack under the name `StackSet:<name>`
(SELF_MANAGED) or as a "hidden" stack that is never registered with the account's
CloudFormation backend (SERVICE_MANAGED). Real CloudFormation creates an ordinary stack named
`StackSet-<stack set name>-<uuid>` in the target account and region for both permission
models. moto's names break any template with a Lambda-backed custom resource: the function
gets the stack name in its name, and `:` splits its ARN, so the service token is "not found";
the hidden stack cannot be found by the custom resource at all. Both fail the whole
CreateStackInstances call. This patch creates (and deletes) the instance's stack in the
target account's backend under the real naming scheme for both models, through moto's own
CREATE change set (the path `deploy` uses against the emulator, which accepts the resources moto
does not model instead of failing on them); nothing else of moto changes. Remove it when a moto release names stack-set instance stacks as AWS does.
"""
from moto.cloudformation import models as cfn_models
from moto.moto_api._internal import mock_random


def _init(self, account_id, region_name, stackset_id, stack_name, name, template, parameters, permission_model):
    self.account_id = account_id
    self.region_name = region_name
    self.stackset_id = stackset_id
    self.stack_name = stack_name
    self.name = name
    self.template = template
    self.parameters = parameters or []
    self.permission_model = permission_model
    if isinstance(parameters, dict):
        params = parameters
    else:
        params = {p["ParameterKey"]: p["ParameterValue"] for p in (parameters or [])}
    backend = cfn_models.cloudformation_backends[account_id][region_name]
    stack_name = f"StackSet-{name}-{mock_random.uuid4()}"
    change_set_id, stack_id = backend.create_change_set(stack_name, "stack-set-instance", template, params, None, "CREATE")
    backend.execute_change_set(change_set_id, stack_name)
    self.stack = backend.get_stack(stack_id)


def _delete(self):
    cfn_models.cloudformation_backends[self.account_id][self.region_name].delete_stack(self.stack.stack_id)


def _to_dict(self):
    d = _original_to_dict(self)
    d["StackId"] = self.stack.stack_id
    return d


_original_to_dict = cfn_models.StackInstance.to_dict
cfn_models.StackInstance.__init__ = _init
cfn_models.StackInstance.delete = _delete
cfn_models.StackInstance.to_dict = _to_dict
