import FlowCore
print("urgentflow")
